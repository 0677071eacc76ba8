//! Every kind of damage to an `.mlpackage` is refused by `decompile` with an error that is not an
//! I/O failure (so `mil decompile` exits 1, see server/tests/robustness.rs), and nothing is
//! written. Packages are compiled from MIL text here, then damaged file by file, byte by byte or
//! field by field in the Model proto.

use mil_proto::decompile::{DecompileError, decompile};
use mil_proto::mil::value::Value as V;
use mil_proto::package::PackageError;
use mil_proto::spec::Model;
use mil_proto::spec::model::Type as ModelType;
use prost::Message;
use std::fs;
use std::path::{Path, PathBuf};

const PROGRAM: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
        tensor<fp16, [4]> w = const()[name = string("w"), val = tensor<fp16, [4]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
        tensor<uint8, [3]> q = const()[name = string("q"), val = tensor<uint8, [3]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(192)))];
        tensor<fp16, [1, 4]> y = add(x = x, y = w)[name = string("y")];
    } -> (y);
}"#;

const MODEL: &str = "Data/com.apple.CoreML/model.mlmodel";
const WEIGHTS: &str = "Data/com.apple.CoreML/weights/weight.bin";

/// A fresh valid package in a temporary folder (`<tmp>/in.mlpackage`), and the folder.
fn package() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    fs::create_dir_all(source.join("weights")).unwrap();
    fs::copy(
        mil_robustness::model_dir().join("weights/weight.bin"),
        source.join("weights/weight.bin"),
    )
    .unwrap();
    let parse = mil_grammar::parse(PROGRAM);
    assert!(parse.diagnostics.is_empty(), "{:?}", parse.diagnostics);
    let pkg = dir.path().join("in.mlpackage");
    mil_proto::compile::compile(&parse.program, &parse.source_map, &source, &pkg).unwrap();
    (dir, pkg)
}

/// Decompiles `pkg` into a fresh `out` folder beside it; the error, and what `out` holds.
fn decompile_damaged(pkg: &Path) -> (Result<mil_proto::decompile::Written, DecompileError>, Vec<String>) {
    let out = pkg.parent().unwrap().join("out");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir(&out).unwrap();
    let result = decompile(pkg, &out.join("model.mil"), false);
    let left: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    (result, left)
}

/// Applies `damage` to a fresh package and checks the decompiler refuses it as malformed (not as
/// an I/O failure), writes nothing, and says something that contains `expected`.
fn refused(what: &str, expected: &str, damage: impl FnOnce(&Path)) {
    let (_dir, pkg) = package();
    damage(&pkg);
    let (result, left) = decompile_damaged(&pkg);
    let message = match result {
        Ok(_) => panic!("{what}: decompiled a damaged package"),
        Err(DecompileError::Package(e @ PackageError::Io { .. })) => {
            panic!("{what}: reported as an I/O failure (exit 2), not as damage: {e}")
        }
        Err(DecompileError::Package(e)) => e.to_string(),
        Err(DecompileError::Model(ds)) => ds
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    assert!(left.is_empty(), "{what}: partial output {left:?}");
    assert!(
        message.contains(expected),
        "{what}: message {message:?} does not say {expected:?}"
    );
}

/// Rewrites the package's Model proto with `edit`.
fn edit_model(pkg: &Path, edit: impl FnOnce(&mut Model)) {
    let path = pkg.join(MODEL);
    let mut model = Model::decode(fs::read(&path).unwrap().as_slice()).unwrap();
    edit(&mut model);
    fs::write(&path, model.encode_to_vec()).unwrap();
}

/// Sets the offset of every BLOBFILE value named `const_name` to `offset`.
fn set_blob_offset(model: &mut Model, const_name: &str, offset: u64) {
    set_blob(model, const_name, |f| f.offset = offset);
}

fn set_blob(model: &mut Model, const_name: &str, edit: impl Fn(&mut mil_proto::mil::value::BlobFileValue)) {
    let Some(ModelType::MlProgram(program)) = &mut model.r#type else {
        panic!("not a program")
    };
    let mut found = false;
    for f in program.functions.values_mut() {
        for block in f.block_specializations.values_mut() {
            for op in &mut block.operations {
                if !op.outputs.iter().any(|o| o.name == const_name) {
                    continue;
                }
                for value in op.attributes.values_mut() {
                    if let Some(V::BlobFileValue(file)) = &mut value.value {
                        edit(file);
                        found = true;
                    }
                }
            }
        }
    }
    assert!(found, "no BLOBFILE value for {const_name}");
}

/// Sets the declared shape of the output of `const_name` (and its `val`) to `dims`.
fn set_const_shape(model: &mut Model, const_name: &str, dims: &[u64]) {
    use mil_proto::mil::dimension::{ConstantDimension, Dimension as D};
    use mil_proto::mil::value_type::Type as T;
    let shape: Vec<_> = dims
        .iter()
        .map(|&size| mil_proto::mil::Dimension {
            dimension: Some(D::Constant(ConstantDimension { size })),
        })
        .collect();
    let Some(ModelType::MlProgram(program)) = &mut model.r#type else {
        panic!("not a program")
    };
    for f in program.functions.values_mut() {
        for block in f.block_specializations.values_mut() {
            for op in &mut block.operations {
                if !op.outputs.iter().any(|o| o.name == const_name) {
                    continue;
                }
                let types = op
                    .outputs
                    .iter_mut()
                    .filter_map(|o| o.r#type.as_mut())
                    .chain(op.attributes.values_mut().filter_map(|v| v.r#type.as_mut()));
                for ty in types {
                    if let Some(T::TensorType(t)) = &mut ty.r#type {
                        t.rank = dims.len() as i64;
                        t.dimensions = shape.clone();
                    }
                }
            }
        }
    }
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let mut data = fs::read(path).unwrap();
    data[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    fs::write(path, data).unwrap();
}

#[test]
fn the_undamaged_package_decompiles() {
    let (_dir, pkg) = package();
    let (result, left) = decompile_damaged(&pkg);
    assert!(result.is_ok(), "{:?}", result.err().map(|e| e.to_string()));
    left.iter()
        .for_each(|f| assert!(["model.mil", "model.weights"].contains(&f.as_str()), "{f}"));
}

#[test]
fn a_damaged_model_file_is_refused() {
    refused("empty model", "not an ML program", |p| {
        fs::write(p.join(MODEL), b"").unwrap()
    });
    refused("truncated model", "not a Core ML model", |p| {
        let data = fs::read(p.join(MODEL)).unwrap();
        fs::write(p.join(MODEL), &data[..data.len() * 2 / 3]).unwrap();
    });
    refused("garbage model", "not a Core ML model", |p| {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        fs::write(p.join(MODEL), garbage).unwrap();
    });
    refused("model is a folder", "model.mlmodel", |p| {
        fs::remove_file(p.join(MODEL)).unwrap();
        fs::create_dir(p.join(MODEL)).unwrap();
    });
}

#[test]
fn a_damaged_manifest_is_refused() {
    refused("missing manifest", "Manifest.json", |p| {
        fs::remove_file(p.join("Manifest.json")).unwrap()
    });
    refused("manifest not JSON", "JSON", |p| {
        fs::write(p.join("Manifest.json"), "{\"fileFormat").unwrap()
    });
    refused("manifest names a missing model", "model.mlmodel", |p| {
        fs::remove_file(p.join(MODEL)).unwrap()
    });
    let retarget = |to: &'static str| {
        move |p: &Path| {
            let text = fs::read_to_string(p.join("Manifest.json")).unwrap();
            let text = text.replace("\"com.apple.CoreML/model.mlmodel\"", &format!("\"{to}\""));
            fs::write(p.join("Manifest.json"), text).unwrap();
        }
    };
    refused(
        "root model path with ..",
        "outside the package",
        retarget("../../in.mlpackage/Data/com.apple.CoreML/model.mlmodel"),
    );
    refused(
        "absolute root model path",
        "outside the package",
        retarget("/etc/hostname"),
    );
    refused(
        "root model is a device",
        "outside the package",
        retarget("/dev/zero"),
    );
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_package_are_refused() {
    use std::os::unix::fs::symlink;
    refused("model symlinked outside", "outside the package", |p| {
        let outside = p.parent().unwrap().join("elsewhere.mlmodel");
        fs::rename(p.join(MODEL), &outside).unwrap();
        symlink(&outside, p.join(MODEL)).unwrap();
    });
    refused("model symlinked to /dev/zero", "outside the package", |p| {
        fs::remove_file(p.join(MODEL)).unwrap();
        symlink("/dev/zero", p.join(MODEL)).unwrap();
    });
    refused("weights symlinked outside", "outside the model folder", |p| {
        let outside = p.parent().unwrap().join("elsewhere.bin");
        fs::rename(p.join(WEIGHTS), &outside).unwrap();
        symlink(&outside, p.join(WEIGHTS)).unwrap();
    });
}

#[test]
fn a_damaged_weight_file_is_refused() {
    refused("weight file missing", "not found", |p| {
        fs::remove_file(p.join(WEIGHTS)).unwrap()
    });
    refused("weight file empty", "", |p| {
        fs::write(p.join(WEIGHTS), b"").unwrap()
    });
    refused("weight file cut in a record", "", |p| {
        let data = fs::read(p.join(WEIGHTS)).unwrap();
        fs::write(p.join(WEIGHTS), &data[..100]).unwrap();
    });
    refused("weight file cut in the last payload", "", |p| {
        let data = fs::read(p.join(WEIGHTS)).unwrap();
        fs::write(p.join(WEIGHTS), &data[..data.len() - 1]).unwrap();
    });
    refused("wrong storage version", "", |p| {
        patch(&p.join(WEIGHTS), 4, &[9, 0, 0, 0])
    });
    refused("wrong sentinel", "", |p| {
        patch(&p.join(WEIGHTS), 64, &[0, 0, 0, 0])
    });
    refused("unknown dtype", "", |p| {
        patch(&p.join(WEIGHTS), 68, &[200, 0, 0, 0])
    });
    refused("other dtype", "", |p| patch(&p.join(WEIGHTS), 68, &[8, 0, 0, 0]));
    refused("payload size past the end", "", |p| {
        patch(&p.join(WEIGHTS), 72, &u64::MAX.to_le_bytes())
    });
    refused("payload size too small", "", |p| {
        patch(&p.join(WEIGHTS), 72, &2u64.to_le_bytes())
    });
    refused("payload offset past the end", "", |p| {
        patch(&p.join(WEIGHTS), 80, &(1u64 << 40).to_le_bytes())
    });
}

#[test]
fn blob_offsets_pointing_anywhere_are_refused() {
    for offset in [0, 1, 63, 65, 128, 4096, 1 << 40, u64::MAX - 63, u64::MAX] {
        refused(&format!("offset {offset}"), "", |p| {
            edit_model(p, |m| set_blob_offset(m, "w", offset))
        });
    }
    refused("offset of the other blob", "", |p| {
        edit_model(p, |m| set_blob_offset(m, "w", 192))
    });
}

#[test]
fn blob_paths_leaving_the_model_folder_are_refused() {
    for path in [
        "@model_path/../../../etc/passwd",
        "/etc/passwd",
        "@model_path/weights/../../../../x",
        "/dev/zero",
    ] {
        refused(path, "", |p| {
            edit_model(p, |m| set_blob(m, "w", |f| f.file_name = path.into()))
        });
    }
}

#[test]
fn shapes_claiming_more_than_the_blob_holds_are_refused_without_allocating_them() {
    // Terabytes, an element count that overflows u64, and one that overflows usize on its own:
    // none may be allocated before the blob's size is checked.
    for dims in [&[1u64 << 40][..], &[1 << 32, 1 << 32], &[u64::MAX, 2], &[5]] {
        refused(&format!("shape {dims:?}"), "", |p| {
            edit_model(p, |m| set_const_shape(m, "w", dims))
        });
    }
}
