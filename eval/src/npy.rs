//! numpy's `.npy` files (format versions 1–3, little-endian, C order) and `.npz` archives of them.

use crate::bail;
use crate::error::{EvalError, Result};
use crate::tensor::{Data, Tensor};
use half::f16;
use mil_ir::DType;
use std::io::Read;

const MAGIC: &[u8] = b"\x93NUMPY";

/// The numpy `descr` of a dtype this crate writes.
fn descr(dtype: DType) -> Option<&'static str> {
    Some(match dtype {
        DType::Bool => "|b1",
        DType::Int8 => "|i1",
        DType::UInt8 => "|u1",
        DType::Int16 => "<i2",
        DType::UInt16 => "<u2",
        DType::Int32 => "<i4",
        DType::UInt32 => "<u4",
        DType::Int64 => "<i8",
        DType::UInt64 => "<u8",
        DType::Fp16 => "<f2",
        DType::Fp32 => "<f4",
        DType::Fp64 => "<f8",
        _ => return None,
    })
}

/// The dtype a numpy `descr` stands for.
fn dtype_of(descr: &str) -> Option<DType> {
    let d = descr.replace(['<', '|', '='], "");
    Some(match d.as_str() {
        "b1" | "?" => DType::Bool,
        "i1" => DType::Int8,
        "u1" => DType::UInt8,
        "i2" => DType::Int16,
        "u2" => DType::UInt16,
        "i4" => DType::Int32,
        "u4" => DType::UInt32,
        "i8" => DType::Int64,
        "u8" => DType::UInt64,
        "f2" => DType::Fp16,
        "f4" => DType::Fp32,
        "f8" => DType::Fp64,
        _ => return None,
    })
}

/// The value of `key` in a numpy header dict (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`).
fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else if let Some(quoted) = rest.strip_prefix('\'') {
        quoted.find('\'')? + 2
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

/// Reads one `.npy` file's bytes.
pub fn read_npy(bytes: &[u8]) -> Result<Tensor> {
    if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
        bail!("not a .npy file (no \\x93NUMPY magic)");
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => bail!("unsupported .npy format version {v}"),
    };
    let Some(header) = bytes.get(start..start + header_len) else {
        bail!("the .npy header runs past the end of the file");
    };
    let header = String::from_utf8_lossy(header);
    let descr = header_field(&header, "descr").unwrap_or("").trim_matches('\'');
    let Some(dtype) = dtype_of(descr) else {
        bail!(
            "unsupported .npy dtype `{descr}` (big-endian, complex, structured and object arrays are not read)"
        );
    };
    if header_field(&header, "fortran_order") == Some("True") {
        bail!("Fortran-ordered .npy arrays are not read; save a C-ordered array");
    }
    let Some(shape_text) = header_field(&header, "shape") else {
        bail!("the .npy header has no shape");
    };
    let shape = shape_text
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| EvalError::msg(format!("bad .npy shape {shape_text}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    let n: usize = shape.iter().product();
    let width = dtype.bits().unwrap_or(8) as usize / 8;
    let payload = &bytes[start + header_len..];
    if payload.len() < n * width {
        bail!(
            "the .npy file is truncated: {n} elements of {descr} need {} bytes, it has {}",
            n * width,
            payload.len()
        );
    }
    let chunks = payload[..n * width].chunks_exact(width);
    let le = |c: &[u8]| {
        let mut b = [0u8; 8];
        b[..c.len()].copy_from_slice(c);
        u64::from_le_bytes(b)
    };
    let data = match dtype {
        DType::Bool => Data::Bool(chunks.map(|c| c[0] != 0).collect()),
        DType::Fp16 => Data::F16(chunks.map(|c| f16::from_le_bytes([c[0], c[1]])).collect()),
        DType::Fp32 => Data::F32(
            chunks
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        DType::Fp64 => Data::F32(
            chunks
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
        ),
        DType::Int8 => Data::Int(chunks.map(|c| c[0] as i8 as i64).collect()),
        DType::Int16 => Data::Int(chunks.map(|c| le(c) as i16 as i64).collect()),
        DType::Int32 => Data::Int(chunks.map(|c| le(c) as i32 as i64).collect()),
        _ => Data::Int(chunks.map(|c| le(c) as i64).collect()),
    };
    Ok(Tensor { dtype, shape, data })
}

/// The `.npy` bytes of a tensor.
pub fn write_npy(t: &Tensor) -> Result<Vec<u8>> {
    let Some(d) = descr(t.dtype) else {
        bail!("a {} tensor cannot be written as .npy", t.dtype);
    };
    let shape = match t.shape.len() {
        1 => format!("({},)", t.shape[0]),
        _ => format!(
            "({})",
            t.shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{d}', 'fortran_order': False, 'shape': {shape}, }}");
    while !(MAGIC.len() + 4 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(header.len() + 10 + t.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    let width = t.dtype.bits().unwrap_or(8) as usize / 8;
    match &t.data {
        Data::F32(v) if t.dtype == DType::Fp64 => v
            .iter()
            .for_each(|x| out.extend_from_slice(&(*x as f64).to_le_bytes())),
        Data::F32(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::F16(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Bool(v) => out.extend(v.iter().map(|&b| b as u8)),
        Data::Int(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()[..width])),
        Data::Str(_) => bail!("a string tensor cannot be written as .npy"),
    }
    Ok(out)
}

/// The arrays of an `.npz` archive (stored or deflated), by name without the `.npy` suffix.
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| EvalError::msg(format!("not a readable .npz archive: {e}")))?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| EvalError::msg(format!("cannot read .npz member {i}: {e}")))?;
        let name = file.name().trim_end_matches(".npy").to_string();
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)
            .map_err(|e| EvalError::msg(format!("cannot read .npz member {name}: {e}")))?;
        let t = read_npy(&buf).map_err(|e| EvalError::msg(format!("{name}: {}", e.message)))?;
        out.push((name, t));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_every_written_dtype() {
        for (dtype, values) in [
            (DType::Fp32, vec![1.5f32, -2.0, 0.25, 7.0, 0.0, 3.0]),
            (DType::Fp16, vec![1.5, -2.0, 0.25, 7.0, 0.0, 3.0]),
            (DType::Int32, vec![1.0, -2.0, 3.0, 4.0, 5.0, -6.0]),
            (DType::Int8, vec![1.0, -2.0, 3.0, 4.0, 5.0, -6.0]),
            (DType::UInt8, vec![1.0, 2.0, 3.0, 4.0, 5.0, 255.0]),
            (DType::Bool, vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0]),
        ] {
            let t = Tensor::from_f32(dtype, vec![2, 3], values);
            let back = read_npy(&write_npy(&t).unwrap()).unwrap();
            assert_eq!(back, t, "{dtype}");
        }
    }

    #[test]
    fn npz_members_are_read_by_name() {
        use std::io::Write;
        let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let x = Tensor::from_f32(DType::Fp32, vec![2], vec![1.0, -1.0]);
        let k = Tensor::from_i64(DType::Int32, vec![], vec![7]);
        for (name, t, method) in [
            ("x.npy", &x, zip::CompressionMethod::Stored),
            ("k.npy", &k, zip::CompressionMethod::Deflated),
        ] {
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            archive.start_file(name, options).unwrap();
            archive.write_all(&write_npy(t).unwrap()).unwrap();
        }
        let bytes = archive.finish().unwrap().into_inner();
        let arrays = read_npz(&bytes).unwrap();
        assert_eq!(arrays, [("x".to_string(), x), ("k".to_string(), k)]);
        assert!(read_npz(b"PK not a zip").is_err());
    }

    #[test]
    fn headers_are_read_as_numpy_writes_them() {
        // The bytes numpy 1.26 writes for np.save(f, np.arange(3, dtype=np.int64)).
        let mut bytes =
            b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }".to_vec();
        bytes.resize(10 + 0x76 - 1, b' ');
        bytes.push(b'\n');
        for v in 0i64..3 {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let t = read_npy(&bytes).unwrap();
        assert_eq!((t.dtype, t.shape.clone()), (DType::Int64, vec![3]));
        assert_eq!(t.to_i64().unwrap(), [0, 1, 2]);
        assert!(
            read_npy(&bytes[..bytes.len() - 4])
                .unwrap_err()
                .message
                .contains("truncated")
        );
        assert!(read_npy(b"hello").is_err());
    }
}
