//! Raw element bytes: tensor elements as weight blobs and `TensorValue.bytes` hold them —
//! little-endian at the dtype's width, sub-byte values packed lowest bit first.

use half::{bf16, f16};
use mil_ir::{DType, Elements};

/// The raw bytes of `elements` as `dtype`: every dtype but bool and string, when the elements are
/// of `dtype`'s storage class (see [`Elements::empty`]). Integers keep their low bits.
pub fn encode(elements: &Elements, dtype: DType) -> Option<Vec<u8>> {
    let bits = dtype.bits()?;
    Some(match (elements, dtype) {
        (Elements::F16(v), DType::Fp16) => v.iter().flat_map(|x| f16::to_le_bytes(*x)).collect(),
        (Elements::Bf16(v), DType::Bf16) => v.iter().flat_map(|x| bf16::to_le_bytes(*x)).collect(),
        (Elements::F32(v), DType::Fp32) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        (Elements::F32(v), DType::Fp8E4M3Fn) => v.iter().map(|&x| fp8(x, 4, true)).collect(),
        (Elements::F32(v), DType::Fp8E5M2) => v.iter().map(|&x| fp8(x, 5, false)).collect(),
        (Elements::F64(v), DType::Fp64) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        (Elements::Int(v), _) if dtype.kind() == mil_ir::DTypeKind::Int => {
            pack(v.iter().map(|&x| x as u64), bits)
        }
        (Elements::UInt(v), _) if dtype.kind() == mil_ir::DTypeKind::UInt => pack(v.iter().copied(), bits),
        _ => return None,
    })
}

/// The `count` elements that `bytes` holds as `dtype`: the inverse of [`encode`]. `None` when `bytes`
/// is not exactly [`crate::blob::payload_size`] long (checked before anything is allocated) or
/// `dtype` has no raw form. Sub-byte and narrow integers are sign-extended for signed dtypes.
pub fn decode(bytes: &[u8], dtype: DType, count: u64) -> Option<Elements> {
    let bits = dtype.bits()?;
    if crate::blob::payload_size(dtype, count)? != bytes.len() as u64 || dtype == DType::Bool {
        return None;
    }
    let width = (bits / 8) as usize;
    Some(match dtype {
        DType::Fp16 => Elements::F16(
            bytes
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]))
                .collect(),
        ),
        DType::Bf16 => Elements::Bf16(
            bytes
                .chunks_exact(2)
                .map(|c| bf16::from_le_bytes([c[0], c[1]]))
                .collect(),
        ),
        DType::Fp32 => Elements::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
        ),
        DType::Fp64 => Elements::F64(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        ),
        DType::Fp8E4M3Fn => Elements::F32(bytes.iter().map(|&b| fp8_value(b, 4, true)).collect()),
        DType::Fp8E5M2 => Elements::F32(bytes.iter().map(|&b| fp8_value(b, 5, false)).collect()),
        _ => {
            let unsigned = unpack(bytes, bits, count as usize, width);
            if dtype.kind() == mil_ir::DTypeKind::Int {
                let shift = 64 - bits;
                Elements::Int(unsigned.map(|x| ((x << shift) as i64) >> shift).collect())
            } else {
                Elements::UInt(unsigned.collect())
            }
        }
    })
}

/// Reads `count` integers `bits` wide: whole bytes little-endian, or packed lowest bit first.
fn unpack(bytes: &[u8], bits: u32, count: usize, width: usize) -> impl Iterator<Item = u64> + '_ {
    (0..count).map(move |i| {
        if width > 0 {
            let mut le = [0u8; 8];
            le[..width].copy_from_slice(&bytes[i * width..(i + 1) * width]);
            return u64::from_le_bytes(le);
        }
        let bits = bits as usize;
        let at = i * bits;
        let mut word = u64::from(bytes[at / 8]);
        if let Some(&next) = bytes.get(at / 8 + 1) {
            word |= u64::from(next) << 8;
        }
        (word >> (at % 8)) & ((1 << bits) - 1)
    })
}

/// The value of the 8-bit float `b` laid out as [`fp8`] describes.
fn fp8_value(b: u8, exp_bits: u32, finite_only: bool) -> f32 {
    let man_bits = 7 - exp_bits;
    let sign = if b & 0x80 != 0 { -1.0 } else { 1.0 };
    let field = i32::from((b & 0x7f) >> man_bits);
    let mantissa = f32::from(b & ((1 << man_bits) - 1));
    let all_ones = (1i32 << exp_bits) - 1;
    let nan = f32::NAN.copysign(sign);
    if finite_only && b & 0x7f == 0x7f {
        return nan;
    }
    if !finite_only && field == all_ones {
        return if mantissa == 0.0 {
            sign * f32::INFINITY
        } else {
            nan
        };
    }
    let bias = (1i32 << (exp_bits - 1)) - 1;
    let scale = f32::from(1u16 << man_bits);
    if field == 0 {
        sign * mantissa / scale * 2f32.powi(1 - bias)
    } else {
        sign * (1.0 + mantissa / scale) * 2f32.powi(field - bias)
    }
}

/// Lays out integers `bits` wide: whole bytes little-endian, or packed lowest bit first.
fn pack(values: impl ExactSizeIterator<Item = u64>, bits: u32) -> Vec<u8> {
    if bits.is_multiple_of(8) {
        let width = (bits / 8) as usize;
        return values
            .flat_map(|x| x.to_le_bytes().into_iter().take(width))
            .collect();
    }
    let bits = bits as usize;
    let mut out = vec![0u8; (values.len() * bits).div_ceil(8)];
    for (i, x) in values.enumerate() {
        let at = i * bits;
        let shifted = (x & ((1 << bits) - 1)) << (at % 8);
        out[at / 8] |= shifted as u8;
        if at % 8 + bits > 8 {
            out[at / 8 + 1] |= (shifted >> 8) as u8;
        }
    }
    out
}

/// An 8-bit float with `exp_bits` exponent bits (bias `2^(exp_bits-1) - 1`) and the rest mantissa,
/// rounded to nearest, ties to even. `finite_only` is the `fn` flavour (e4m3fn): no infinities, and
/// only all-ones is NaN; the other (e5m2) follows IEEE 754.
fn fp8(x: f32, exp_bits: u32, finite_only: bool) -> u8 {
    let man_bits = 7 - exp_bits;
    let sign = if x.is_sign_negative() { 0x80 } else { 0 };
    let all_ones_exp = (1u8 << exp_bits) - 1;
    let nan = if finite_only {
        0x7f
    } else {
        (all_ones_exp << man_bits) | 0b10
    };
    let overflow = if finite_only {
        nan
    } else {
        all_ones_exp << man_bits
    };
    if x.is_nan() {
        return sign | nan;
    }
    if x.is_infinite() {
        return sign | overflow;
    }
    let a = f64::from(x.abs());
    if a == 0.0 {
        return sign;
    }
    let bias = (1i32 << (exp_bits - 1)) - 1;
    // `a` comes from an f32, so it is a normal f64 whose exponent field is exact.
    let exponent = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let mut e = exponent.max(1 - bias);
    let mut n = (a / 2f64.powi(e - man_bits as i32)).round_ties_even();
    if n >= f64::from(2u32 << man_bits) {
        n /= 2.0;
        e += 1;
    }
    let implicit = f64::from(1u32 << man_bits);
    let (field, mantissa) = if n < implicit {
        (0, n as u8)
    } else {
        (e + bias, (n - implicit) as u8)
    };
    let largest_field = i32::from(all_ones_exp) - i32::from(!finite_only);
    let bits = ((field.min(255) as u8) << man_bits) | mantissa;
    if field > largest_field || (finite_only && bits == 0x7f) {
        return sign | overflow;
    }
    sign | bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::BlobReader;
    use std::io::Cursor;

    /// Every blob of the weight file coremltools wrote (`tests/oracle/make_fixtures.py`) holds
    /// exactly the bytes `encode` makes of the values coremltools was given.
    #[test]
    fn payloads_match_what_coremltools_wrote() {
        for (dtype, entry, payload) in coremltools_blobs() {
            let values = entry["values"].as_array().unwrap();
            let elements = match dtype {
                DType::Fp16 => Elements::F16(
                    values
                        .iter()
                        .map(|v| f16::from_f64(v.as_f64().unwrap()))
                        .collect(),
                ),
                DType::Fp32 => Elements::F32(values.iter().map(|v| v.as_f64().unwrap() as f32).collect()),
                d if d.kind() == mil_ir::DTypeKind::Int => {
                    Elements::Int(values.iter().map(|v| v.as_i64().unwrap()).collect())
                }
                _ => Elements::UInt(values.iter().map(|v| v.as_u64().unwrap()).collect()),
            };
            assert_eq!(encode(&elements, dtype).unwrap(), payload, "{dtype}");
        }
    }

    /// Each blob of the weight file coremltools wrote (`tests/oracle/make_fixtures.py`): its dtype,
    /// its entry in the fixture's JSON (offset and the values coremltools was given) and its bytes.
    fn coremltools_blobs() -> Vec<(DType, serde_json::Value, Vec<u8>)> {
        let file: &[u8] = include_bytes!("../tests/data/coremltools_weight.bin");
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/coremltools_weight.json")).unwrap();
        let mut reader = BlobReader::new(Cursor::new(file)).unwrap();
        let entries = json.as_array().unwrap();
        entries
            .iter()
            .map(|entry| {
                let dtype = DType::from_name(entry["dtype"].as_str().unwrap()).unwrap();
                let record = reader.record(entry["offset"].as_u64().unwrap()).unwrap();
                (dtype, entry.clone(), reader.read_payload(&record).unwrap())
            })
            .collect()
    }

    /// Reference encodings from the OCP 8-bit floating point specification (e4m3fn: bias 7, max 448,
    /// NaN 0x7f; e5m2: bias 15, max 57344, infinity 0x7c).
    #[test]
    fn fp8_encodings() {
        let e4m3 = |x: f32| fp8(x, 4, true);
        let e5m2 = |x: f32| fp8(x, 5, false);
        assert_eq!(e4m3(1.0), 0x38);
        assert_eq!(e4m3(-2.0), 0xc0);
        assert_eq!(e4m3(448.0), 0x7e);
        assert_eq!(e4m3(2f32.powi(-9)), 0x01, "smallest subnormal 2^-9");
        assert_eq!(e4m3(0.013671875), 0x07, "largest subnormal 7 * 2^-9");
        assert_eq!(e4m3(0.015625), 0x08, "smallest normal 2^-6");
        assert_eq!(e4m3(1.0625), 0x38, "halfway between 1 and 1.125 rounds to even");
        assert_eq!(
            e4m3(1.1875),
            0x3a,
            "halfway between 1.125 and 1.25 rounds to even"
        );
        assert_eq!(e4m3(480.0), 0x7f, "overflow is NaN");
        assert_eq!(e4m3(f32::NAN), 0x7f);
        assert_eq!(e4m3(-0.0), 0x80);
        assert_eq!(e5m2(1.0), 0x3c);
        assert_eq!(e5m2(57344.0), 0x7b);
        assert_eq!(e5m2(f32::INFINITY), 0x7c);
        assert_eq!(e5m2(f32::NEG_INFINITY), 0xfc);
        assert_eq!(e5m2(65536.0), 0x7c, "overflow is infinity");
        assert_eq!(e5m2(2f32.powi(-16)), 0x01, "smallest subnormal 2^-16");
        assert_eq!(e5m2(-1.5), 0xbe);
    }

    /// `decode` reads back every blob of the coremltools-written weight file as the elements that
    /// `encode` turns into the same bytes, and every fp8 byte as a value that encodes to it.
    #[test]
    fn decode_inverts_encode() {
        for (dtype, entry, bytes) in coremltools_blobs() {
            let count = entry["values"].as_array().unwrap().len() as u64;
            let elements = decode(&bytes, dtype, count).unwrap();
            assert_eq!(elements.len() as u64, count, "{dtype}");
            let first = entry["values"][0].as_f64().unwrap();
            assert_eq!(elements.get_f64(0), Some(first), "{dtype}");
            assert_eq!(encode(&elements, dtype).unwrap(), bytes, "{dtype}");
            assert_eq!(decode(&bytes, dtype, count + 8), None, "{dtype}: a byte too few");
        }
        for b in 0..=255u8 {
            let e4m3 = decode(&[b], DType::Fp8E4M3Fn, 1).unwrap();
            assert_eq!(encode(&e4m3, DType::Fp8E4M3Fn).unwrap(), [b]);
            let e5m2 = decode(&[b], DType::Fp8E5M2, 1).unwrap();
            let canonical_nan = if b & 0x7f > 0x7c { (b & 0x80) | 0x7e } else { b };
            assert_eq!(encode(&e5m2, DType::Fp8E5M2).unwrap(), [canonical_nan]);
        }
        assert_eq!(decode(&[1, 2, 3], DType::Fp16, 1), None);
        assert_eq!(decode(&[1], DType::Bool, 1), None);
    }

    #[test]
    fn other_widths_and_mismatches() {
        assert_eq!(encode(&Elements::Int(vec![-2, 3]), DType::Int64).unwrap(), {
            let mut v = (-2i64).to_le_bytes().to_vec();
            v.extend(3i64.to_le_bytes());
            v
        });
        assert_eq!(
            encode(&Elements::F64(vec![0.5]), DType::Fp64).unwrap(),
            0.5f64.to_le_bytes()
        );
        assert_eq!(
            encode(&Elements::Bf16(vec![bf16::from_f32(1.0)]), DType::Bf16).unwrap(),
            [0x80, 0x3f]
        );
        assert_eq!(encode(&Elements::Int(vec![1]), DType::Fp16), None);
        assert_eq!(encode(&Elements::Bool(vec![true]), DType::Bool), None);
        assert_eq!(encode(&Elements::Str(vec!["a".into()]), DType::String), None);
    }
}
