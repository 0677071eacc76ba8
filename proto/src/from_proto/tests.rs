//! Text → package → text is the identity on canonical text; the package the decompiled text
//! compiles to equals the first, model and weight file byte for byte; malformed models are refused.

use crate::compile::compile;
use crate::decompile::{DecompileError, decompile};
use crate::mil;
use crate::package::read_model;
use prost::Message;
use std::fs;
use std::path::{Path, PathBuf};

/// A folder holding `weights/weight.bin`, a copy of the weight file coremltools wrote
/// (`proto/tests/data/coremltools_weight.json` lists its blobs: fp16 ×5 at 64, fp32 ×7 at 192, int8
/// ×5 at 320, uint8 ×5 at 448, ..., uint4 ×9 at 1600).
fn model_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("weights")).unwrap();
    fs::write(
        tmp.path().join("weights/weight.bin"),
        include_bytes!("../../tests/data/coremltools_weight.bin"),
    )
    .unwrap();
    tmp
}

fn compile_text(text: &str, model_dir: &Path, target: &Path) {
    let parsed = mil_grammar::parse(text);
    assert!(parsed.diagnostics.is_empty(), "{text}\n{:?}", parsed.diagnostics);
    compile(&parsed.program, &parsed.source_map, model_dir, target).unwrap();
}

fn model_file(package: &Path) -> PathBuf {
    package.join("Data/com.apple.CoreML/model.mlmodel")
}

/// `text` as decompiling writes it into `NAME.mil`: weights in `NAME.weights/`, a final newline.
fn as_decompiled(text: &str, name: &str) -> String {
    let weights = format!("@model_path/{name}.weights/weight.bin");
    format!("{}\n", text.replace("@model_path/weights/weight.bin", &weights))
}

fn weight_file(package: &Path) -> PathBuf {
    package.join("Data/com.apple.CoreML/weights/weight.bin")
}

/// Compiles `text`, decompiles the package, and checks the text comes back unchanged and compiles
/// to the same package.
fn assert_round_trip(text: &str) {
    let dir = model_dir();
    let first = dir.path().join("first.mlpackage");
    compile_text(text, dir.path(), &first);
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    decompile(&first, &out.join("model.mil"), false).unwrap();
    let decompiled = fs::read_to_string(out.join("model.mil")).unwrap();
    assert_eq!(decompiled, as_decompiled(text, "model"));
    let second = dir.path().join("second.mlpackage");
    compile_text(&decompiled, &out, &second);
    let (a, b) = (
        read_model(&model_file(&first)).unwrap(),
        read_model(&model_file(&second)).unwrap(),
    );
    assert_eq!(a, b);
    assert_eq!(
        fs::read(weight_file(&first)).ok(),
        fs::read(weight_file(&second)).ok()
    );
    assert_eq!(
        fs::read(weight_file(&first)).ok(),
        fs::read(out.join("model.weights/weight.bin")).ok()
    );
}

#[test]
fn ios18_program_with_attributes_blobs_states_and_tuples() {
    assert_round_trip(
        r#"program(1.3)
[buildInfo = dict<string, string>({{"coremltools-component-milinternal", ""}, {"coremltools-version", "9.0"}})]
{
    func main<ios18>(state<tensor<fp16, [2, 5]>> cache, tensor<fp16, [2, 5]> x) {
            tensor<fp16, [2, 5]> old = read_state(input = cache)[name = string("old")];
            tensor<fp16, [5]> w = const()[name = string("w"), val = tensor<fp16, [5]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
            tensor<fp16, [2, 5]> sum = add(x = old, y = w)[name = string("sum")];
            write_state(data = sum, input = cache)[name = string("update")];
            int32 axis = const()[name = string("axis"), val = int32(0)];
            bool interleave = const()[name = string("interleave"), val = bool(false)];
            tensor<fp16, [4, 5]> both = concat(axis = axis, interleave = interleave, values = (sum, x))[name = string("both")];
            tensor<fp16, [2, 5]> one = concat(axis = axis, interleave = interleave, values = (x))[name = string("one")];
            tensor<uint4, [3, 3]> idx = const()[name = string("idx"), val = tensor<uint4, [3, 3]>([[0, 1, 2], [3, 0, 1], [2, 3, 15]])];
            tensor<fp16, [3, 3]> lut_w = constexpr_lut_to_dense(indices = idx, lut = tensor<fp16, [1, 1, 4, 1]>([[[[0x0p+0], [0x1p+0], [-0x1.8p+1], [inf]]]]))[name = string("lut_w")];
        } -> (both, one, lut_w);
    func second<ios18>(tensor<fp32, [7]> a) [note = dict<string, fp64>({{"ane", 4.0960000000000001e-05}, {"bnns", 0}})] {
            tensor<fp32, [7]> b = const()[name = string("b"), val = tensor<fp32, [7]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(192)))];
            tensor<fp32, [7]> c = mul(x = a, y = b)[name = string("c")];
            tensor<fp16, [5]> h = const()[name = string("h"), val = tensor<fp16, [5]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
        } -> (c);
}"#,
    );
}

#[test]
fn ios17_program_with_nested_blocks_and_rank0_spelling() {
    let text = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/oracle/programs/control_flow_ios17.mil"
    ))
    .unwrap();
    assert_round_trip(text.trim_end());
}

/// coremltools names the parameters of a `while_loop`'s condition and body blocks alike; each block's
/// statements see their own block's parameters.
#[test]
fn while_loop_blocks_may_share_parameter_names() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [2]> x) {
            int32 i0 = const()[name = string("i0"), val = int32(0)];
            int32 n, tensor<fp32, [2]> out = while_loop(loop_vars = (i0, x))[name = string("loop")]
                block(int32 i, tensor<fp32, [2]> v) {
                        bool more = less(x = i, y = int32(5))[name = string("more")];
                    } -> (more)
                block(int32 i, tensor<fp32, [2]> v) {
                        int32 i_next = add(x = i, y = int32(1))[name = string("i_next")];
                        tensor<fp32, [2]> v_next = mul(x = v, y = fp32(0x1.8p+0))[name = string("v_next")];
                    } -> (i_next, v_next);
        } -> (out);
}"#;
    let parsed = mil_grammar::parse(text);
    let f = &parsed.program.functions[0];
    let body_block = f.op(mil_ir::OpId(1)).blocks[1];
    let i_next = f.op(f.block(body_block).ops[0]);
    let Some(mil_ir::Operand::Value(i)) = i_next.arg("x") else {
        panic!("x is a name")
    };
    assert_eq!(i.id, Some(f.block(body_block).params[0]));
    assert_round_trip(text);
}

#[test]
fn ios16_constexpr_attributes_and_every_immediate_dtype() {
    assert_round_trip(
        r#"program(1.0)
{
    func main<ios16>(tensor<fp16, [5]> x) {
            tensor<fp16, [5]> h = const()[name = tensor<string, []>("h"), val = tensor<fp16, [5]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(64)))];
            tensor<fp32, [7]> f = const()[name = tensor<string, []>("f"), val = tensor<fp32, [7]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(192)))];
            tensor<fp16, [5]> w = constexpr_affine_dequantize()[axis = tensor<int32, []>(0), name = tensor<string, []>("w"), quantized_data = tensor<int8, [5]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(320))), scale = tensor<fp16, []>(0x1p-1), zero_point = tensor<int8, []>(1)];
            tensor<fp16, [5]> y = add(x = x, y = w)[name = tensor<string, []>("y")];
            tensor<int8, [3]> i8 = const()[name = tensor<string, []>("i8"), val = tensor<int8, [3]>([-128, 0, 127])];
            tensor<uint8, [2]> u8 = const()[name = tensor<string, []>("u8"), val = tensor<uint8, [2]>([0, 255])];
            tensor<int16, [2]> i16 = const()[name = tensor<string, []>("i16"), val = tensor<int16, [2]>([-32768, 32767])];
            tensor<uint16, [2]> u16 = const()[name = tensor<string, []>("u16"), val = tensor<uint16, [2]>([0, 65535])];
            tensor<int32, [2]> i32 = const()[name = tensor<string, []>("i32"), val = tensor<int32, [2]>([-2147483648, 2147483647])];
            tensor<uint32, [1]> u32 = const()[name = tensor<string, []>("u32"), val = tensor<uint32, [1]>([4294967295])];
            tensor<int64, [1]> i64 = const()[name = tensor<string, []>("i64"), val = tensor<int64, [1]>([-9223372036854775808])];
            tensor<uint64, [1]> u64 = const()[name = tensor<string, []>("u64"), val = tensor<uint64, [1]>([18446744073709551615])];
            tensor<fp32, [2]> f32 = const()[name = tensor<string, []>("f32"), val = tensor<fp32, [2]>([0x1.99999ap-4, -0x0p+0])];
            tensor<fp64, [1]> f64 = const()[name = tensor<string, []>("f64"), val = tensor<fp64, [1]>([0x1.999999999999ap-4])];
            tensor<bf16, [1]> b16 = const()[name = tensor<string, []>("b16"), val = tensor<bf16, [1]>([0x1.8p+0])];
            tensor<int4, [3]> i4 = const()[name = tensor<string, []>("i4"), val = tensor<int4, [3]>([-8, 7, -1])];
            tensor<uint1, [3]> u1 = const()[name = tensor<string, []>("u1"), val = tensor<uint1, [3]>([1, 0, 1])];
            tensor<uint2, [2]> u2 = const()[name = tensor<string, []>("u2"), val = tensor<uint2, [2]>([3, 1])];
            tensor<uint3, [2]> u3 = const()[name = tensor<string, []>("u3"), val = tensor<uint3, [2]>([7, 5])];
            tensor<uint6, [2]> u6 = const()[name = tensor<string, []>("u6"), val = tensor<uint6, [2]>([63, 33])];
            tensor<fp8e4m3fn, [2]> e4 = const()[name = tensor<string, []>("e4"), val = tensor<fp8e4m3fn, [2]>([0x1p+0, -0x1.cp+8])];
            tensor<fp8e5m2, [1]> e5 = const()[name = tensor<string, []>("e5"), val = tensor<fp8e5m2, [1]>([-inf])];
            tensor<bool, [2, 1]> b = const()[name = tensor<string, []>("b"), val = tensor<bool, [2, 1]>([[true], [false]])];
            tensor<string, [2]> s = const()[name = tensor<string, []>("s"), val = tensor<string, [2]>(["a\"b", "\n"])];
        } -> (y);
}"#,
    );
}

#[test]
fn large_inline_literals_come_back_as_weight_file_references() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [10]> x) {
            tensor<fp16, [10]> w = const()[name = string("w"), val = tensor<fp16, [10]>([0x1p+0, 0x1p+1, 0x1p+2, 0x1p+3, 0x1p+4, 0x1p+5, 0x1p+6, 0x1p+7, 0x1p+8, 0x1p+9])];
            tensor<fp16, [10]> y = add(x = x, y = w)[name = string("y")];
        } -> (y);
}"#;
    let dir = model_dir();
    let package = dir.path().join("p.mlpackage");
    compile_text(text, dir.path(), &package);
    let out = dir.path().join("out.mil");
    decompile(&package, &out, false).unwrap();
    let decompiled = fs::read_to_string(&out).unwrap();
    assert!(
        decompiled.contains(r#"val = tensor<fp16, [10]>(BLOBFILE(path = string("@model_path/out.weights/weight.bin"), offset = uint64(64)))"#),
        "{decompiled}"
    );
    let blob = fs::read(dir.path().join("out.weights/weight.bin")).unwrap();
    assert_eq!(&blob[128..130], &half::f16::from_f32(1.0).to_le_bytes());
    assert_eq!(&blob[146..148], &half::f16::from_f32(512.0).to_le_bytes());
}

/// Writes `model` as a bare `model.mlmodel` beside the fixture weights and decompiles it.
fn decompile_model(model: &crate::spec::Model) -> Result<String, Vec<(&'static str, String)>> {
    let dir = model_dir();
    let file = dir.path().join("model.mlmodel");
    fs::write(&file, model.encode_to_vec()).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    match decompile(&file, &out.join("m.mil"), false) {
        Ok(_) => Ok(fs::read_to_string(out.join("m.mil")).unwrap()),
        Err(DecompileError::Model(d)) => {
            assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "nothing is written");
            Err(d.into_iter().map(|d| (d.code.id, d.message)).collect())
        }
        Err(e) => panic!("{e}"),
    }
}

/// The model of a small compiled program, to be spoiled by the tests.
fn compiled(text: &str) -> crate::spec::Model {
    let dir = model_dir();
    let package = dir.path().join("p.mlpackage");
    compile_text(text, dir.path(), &package);
    read_model(&model_file(&package)).unwrap()
}

const SMALL: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [5]> x) {
            tensor<fp16, [5]> w = const()[name = string("w"), val = tensor<fp16, [5]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
            tensor<fp16, [5]> y = add(x = x, y = w)[name = string("y")];
        } -> (y);
}"#;

fn main_ops(model: &mut crate::spec::Model) -> &mut Vec<mil::Operation> {
    let Some(crate::spec::model::Type::MlProgram(p)) = &mut model.r#type else {
        unreachable!()
    };
    let f = p.functions.get_mut("main").unwrap();
    &mut f.block_specializations.get_mut("CoreML8").unwrap().operations
}

fn val(op: &mut mil::Operation) -> &mut mil::Value {
    op.attributes.get_mut("val").unwrap()
}

#[test]
fn a_bare_model_file_decompiles_against_its_folder() {
    assert_eq!(
        decompile_model(&compiled(SMALL)).unwrap(),
        as_decompiled(SMALL, "m")
    );
}

#[test]
fn malformed_models_are_refused_with_a_diagnostic() {
    let spoil = |f: &dyn Fn(&mut crate::spec::Model)| {
        let mut model = compiled(SMALL);
        f(&mut model);
        decompile_model(&model).unwrap_err()
    };
    let huge = spoil(&|m| {
        let v = val(&mut main_ops(m)[0]);
        let Some(mil::value_type::Type::TensorType(t)) = &mut v.r#type.as_mut().unwrap().r#type else {
            unreachable!()
        };
        t.dimensions[0] = mil::Dimension {
            dimension: Some(mil::dimension::Dimension::Constant(
                mil::dimension::ConstantDimension { size: u64::MAX / 2 },
            )),
        };
    });
    assert_eq!(huge[0].0, "MIL0305", "{huge:?}");
    let past_end = spoil(&|m| {
        let v = val(&mut main_ops(m)[0]);
        v.value = Some(mil::value::Value::BlobFileValue(mil::value::BlobFileValue {
            file_name: "@model_path/weights/weight.bin".into(),
            offset: 1 << 40,
        }));
    });
    assert_eq!(past_end[0].0, "MIL0303", "{past_end:?}");
    let missing = spoil(&|m| {
        let v = val(&mut main_ops(m)[0]);
        v.value = Some(mil::value::Value::BlobFileValue(mil::value::BlobFileValue {
            file_name: "@model_path/weights/other.bin".into(),
            offset: 64,
        }));
    });
    assert_eq!(missing[0].0, "MIL0302", "{missing:?}");
    let wrong_dtype = spoil(&|m| {
        let v = val(&mut main_ops(m)[0]);
        let Some(mil::value_type::Type::TensorType(t)) = &mut v.r#type.as_mut().unwrap().r#type else {
            unreachable!()
        };
        t.data_type = mil::DataType::Int8 as i32;
    });
    assert_eq!(wrong_dtype[0].0, "MIL0304", "{wrong_dtype:?}");
    let bad_name = spoil(&|m| main_ops(m)[1].outputs[0].name = "y.1".into());
    assert_eq!(
        bad_name,
        [
            (
                "MIL0506",
                "function `main`, op `y` (add): value name `y.1` is not a MIL identifier".into()
            ),
            (
                "MIL0506",
                "function `main`: `y` is used but not defined before".into()
            )
        ]
    );
    let short_bytes = spoil(&|m| {
        let op = &mut main_ops(m)[1];
        op.inputs.get_mut("y").unwrap().arguments[0] = mil::argument::Binding {
            binding: Some(mil::argument::binding::Binding::Value(mil::Value {
                doc_string: String::new(),
                r#type: Some(crate::to_proto::value::tensor_type(
                    mil_ir::DType::Fp16,
                    &[mil_ir::Dim::Known(5)],
                )),
                value: Some(mil::value::Value::ImmediateValue(mil::value::ImmediateValue {
                    value: Some(mil::value::immediate_value::Value::Tensor(mil::TensorValue {
                        value: Some(mil::tensor_value::Value::Bytes(
                            mil::tensor_value::RepeatedBytes { values: vec![0; 9] },
                        )),
                    })),
                })),
            })),
        };
    });
    assert_eq!(
        short_bytes,
        [(
            "MIL0506",
            "function `main`, op `y` (add): `an inline argument`: 10 bytes hold 5 fp16 elements; there are 9"
                .into()
        )]
    );
    let old_opset = spoil(&|m| {
        let Some(crate::spec::model::Type::MlProgram(p)) = &mut m.r#type else {
            unreachable!()
        };
        let f = p.functions.get_mut("main").unwrap();
        let body = f.block_specializations.remove("CoreML8").unwrap();
        f.opset = "CoreML5".into();
        f.block_specializations.insert("CoreML5".into(), body);
        f.block_specializations.get_mut("CoreML5").unwrap().operations[1].r#type =
            "scaled_dot_product_attention".into();
    });
    assert_eq!(old_opset[0].0, "MIL0505", "{old_opset:?}");
    let not_a_program = spoil(&|m| m.r#type = None);
    assert_eq!(
        not_a_program,
        [("MIL0506", "the model is not an ML program (mlProgram)".into())]
    );
}
