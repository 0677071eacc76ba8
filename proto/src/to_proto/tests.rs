//! The conversion's choices, each checked against the conventions of coremltools' writer listed in
//! `shared/docs/mlpackage.md`. That coremltools loads the result is checked by the oracle tests in
//! `tests/oracle/`.

use super::*;
use crate::blob::{BlobReader, BlobWriter};
use crate::mil::{tensor_value::Value as Tv, value::Value as V};
use crate::spec::feature_type::Type as Ft;
use crate::weights::WeightFiles;
use mil_ir::DType;
use std::io::Cursor;

/// Parses `text` (which must have no errors) and converts it with weights in `dir`; returns the
/// model and the weight file written.
fn convert_in(text: &str, dir: &std::path::Path) -> Result<(Model, Vec<u8>), Vec<Diagnostic>> {
    let parsed = mil_grammar::parse(text);
    assert!(
        !mil_ir::diagnostic::has_errors(&parsed.diagnostics),
        "{:#?}",
        parsed.diagnostics
    );
    let mut blobs = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
    let mut weights = WeightFiles::new(dir);
    let model = to_proto(&parsed.program, &parsed.source_map, &mut weights, &mut blobs)?.model;
    Ok((model, blobs.finish().unwrap().into_inner()))
}

fn convert(text: &str) -> Result<(Model, Vec<u8>), Vec<Diagnostic>> {
    convert_in(text, std::path::Path::new("/nonexistent"))
}

/// `main<opset>(x: fp32[2]) { body } -> (outputs)`.
fn program(opset: &str, body: &str, outputs: &str) -> String {
    format!(
        "program(1.3)\n{{\n    func main<{opset}>(tensor<fp32, [2]> x) {{\n{body}\n    }} -> ({outputs});\n}}\n"
    )
}

fn codes_of(errors: &[Diagnostic]) -> Vec<&'static str> {
    errors.iter().map(|d| d.code.id).collect()
}

fn ml_program(model: &Model) -> &mil::Program {
    match &model.r#type {
        Some(spec::model::Type::MlProgram(p)) => p,
        None => panic!("no program"),
    }
}

fn main_ops(model: &Model) -> &[mil::Operation] {
    let f = &ml_program(model).functions["main"];
    &f.block_specializations[&f.opset].operations
}

/// The `val` of the const whose output is `name`.
fn const_val<'a>(model: &'a Model, name: &str) -> &'a mil::Value {
    let op = main_ops(model)
        .iter()
        .find(|o| o.outputs[0].name == name)
        .unwrap();
    &op.attributes["val"]
}

fn tensor_field(value: &mil::Value) -> &Tv {
    match &value.value {
        Some(V::ImmediateValue(i)) => match &i.value {
            Some(mil::value::immediate_value::Value::Tensor(t)) => t.value.as_ref().unwrap(),
            other => panic!("not a tensor: {other:?}"),
        },
        other => panic!("not immediate: {other:?}"),
    }
}

#[test]
fn opsets_give_the_specification_version_and_function_opset() {
    for (opset, version, name) in [
        ("ios15", 6, "CoreML5"),
        ("ios16", 7, "CoreML6"),
        ("ios17", 8, "CoreML7"),
        ("ios18", 9, "CoreML8"),
        ("ios26", 10, "CoreML9"),
    ] {
        let (model, _) = convert(&program(opset, "", "x")).unwrap();
        assert_eq!(model.specification_version, version);
        let main = &ml_program(&model).functions["main"];
        assert_eq!(main.opset, name);
        assert_eq!(main.block_specializations.keys().collect::<Vec<_>>(), [name]);
    }
    let errors = convert(&program("ios14", "", "x")).unwrap_err();
    assert_eq!(codes_of(&errors), ["MIL0501"]);
}

#[test]
fn immediate_encodings_follow_the_dtype() {
    let consts = [
        ("fp32", "0x1p+0", "floats"),
        ("fp64", "0x1p+0", "doubles"),
        ("fp16", "0x1p+0", "bytes"),
        ("int32", "-3", "ints"),
        ("int16", "-3", "ints"),
        ("uint16", "3", "ints"),
        ("int64", "-3", "longInts"),
        ("uint64", "3", "longInts"),
        ("int8", "-3", "bytes"),
        ("uint8", "3", "bytes"),
        ("uint32", "3", "bytes"),
        ("bool", "true", "bools"),
        ("string", "\"s\"", "strings"),
    ];
    let body: String = consts
        .iter()
        .map(|(d, v, _)| format!("        {d} c_{d} = const()[name = string(\"c_{d}\"), val = {d}({v})];\n"))
        .collect();
    let (model, weights) = convert(&program("ios18", &body, "x")).unwrap();
    assert_eq!(weights.len(), 64, "nothing in the weight file");
    for (dtype, _, field) in consts {
        let value = const_val(&model, &format!("c_{dtype}"));
        let found = match tensor_field(value) {
            Tv::Floats(_) => "floats",
            Tv::Doubles(_) => "doubles",
            Tv::Ints(_) => "ints",
            Tv::LongInts(_) => "longInts",
            Tv::Bools(_) => "bools",
            Tv::Strings(_) => "strings",
            Tv::Bytes(_) => "bytes",
        };
        assert_eq!(found, field, "{dtype}");
        let ty = value.r#type.as_ref().unwrap().r#type.as_ref().unwrap();
        let mil::value_type::Type::TensorType(t) = ty else {
            panic!()
        };
        assert_eq!(
            (t.rank, t.dimensions.len()),
            (0, 0),
            "{dtype}: a scalar is a rank-0 tensor"
        );
    }
    assert_eq!(
        *tensor_field(const_val(&model, "c_fp16")),
        Tv::Bytes(mil::tensor_value::RepeatedBytes {
            values: vec![0x00, 0x3c]
        })
    );
    assert_eq!(
        *tensor_field(const_val(&model, "c_int8")),
        Tv::Bytes(mil::tensor_value::RepeatedBytes { values: vec![0xfd] })
    );
}

#[test]
fn large_constants_of_weight_dtypes_go_to_the_weight_file() {
    let tensor = |d: &str, n: usize| {
        let items = vec!["1"; n].join(", ");
        format!("tensor<{d}, [{n}]>([{items}])")
    };
    let body = |opset_extra: &str| {
        [
            ("a", tensor("fp16", 10)),
            ("b", tensor("fp16", 9)),
            ("c", tensor("int32", 10)),
            ("d", tensor("int64", 12)),
            ("e", tensor("uint4", 11)),
        ]
        .iter()
        .map(|(n, v)| {
            let ty = v.split('(').next().unwrap();
            format!("        {ty} {n} = const()[name = string(\"{n}{opset_extra}\"), val = {v}];\n")
        })
        .collect::<String>()
    };
    let is_blob =
        |model: &Model, name: &str| matches!(const_val(model, name).value, Some(V::BlobFileValue(_)));

    let (ios17, weights17) = convert(&program("ios17", &body("").replace("uint4", "uint8"), "x")).unwrap();
    assert_eq!(
        ["a", "b", "c", "d", "e"].map(|n| is_blob(&ios17, n)),
        [true, false, false, false, true]
    );
    assert_eq!(BlobReader::new(Cursor::new(&weights17)).unwrap().count(), 2);

    let (ios18, weights18) = convert(&program("ios18", &body(""), "x")).unwrap();
    assert_eq!(
        ["a", "b", "c", "d", "e"].map(|n| is_blob(&ios18, n)),
        [true, false, true, false, true]
    );
    let mut reader = BlobReader::new(Cursor::new(&weights18)).unwrap();
    let Some(V::BlobFileValue(file)) = &const_val(&ios18, "e").value else {
        panic!()
    };
    assert_eq!(file.file_name, "@model_path/weights/weight.bin");
    let record = reader.record(file.offset).unwrap();
    assert_eq!(
        (record.dtype, record.size, record.padding_bits),
        (DType::UInt4, 6, 4)
    );
    assert_eq!(
        reader.read_payload(&record).unwrap(),
        [0x11, 0x11, 0x11, 0x11, 0x11, 0x01]
    );
}

#[test]
fn ops_bind_names_inline_values_and_tuples_and_get_names() {
    let body = "        tensor<fp32, [4]> c = concat(values = (x, tensor<fp32, [2]>([0x1p+0, 0x1p+1])), axis = int32(0), interleave = bool(false));\n\
                \x20       tensor<fp32, [4]> r = identity(c);\n";
    let (model, _) = convert(&program("ios17", body, "r")).unwrap();
    let ops = main_ops(&model);
    let concat = &ops[0];
    assert_eq!(concat.r#type, "concat");
    let values = &concat.inputs["values"].arguments;
    assert_eq!(values.len(), 2);
    assert_eq!(
        values[0].binding,
        Some(argument::binding::Binding::Name("x".into()))
    );
    let Some(argument::binding::Binding::Value(inline)) = &values[1].binding else {
        panic!()
    };
    assert_eq!(
        *tensor_field(inline),
        Tv::Floats(mil::tensor_value::RepeatedFloats {
            values: vec![1.0, 2.0]
        })
    );
    assert_eq!(
        tensor_field(&concat.attributes["name"]),
        &Tv::Strings(mil::tensor_value::RepeatedStrings {
            values: vec!["c".into()]
        })
    );
    assert_eq!(
        ops[1].inputs.keys().collect::<Vec<_>>(),
        ["x"],
        "a positional argument gets its key"
    );
    assert_eq!(ops[1].outputs[0].name, "r");

    let errors = convert(&program(
        "ios17",
        "        tensor<fp32, [2]> y = my_op(x)[name = string(\"y\")];\n",
        "y",
    ))
    .unwrap_err();
    assert_eq!(codes_of(&errors), ["MIL0504"]);
}

#[test]
fn the_description_mirrors_main() {
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, ?, 4]> x, state<tensor<fp16, [2]>> s, tensor<int32, [3]> n) {\n\
                \x20       tensor<fp16, [2]> v = read_state(input = s)[name = string(\"v\")];\n\
                \x20   } -> (v, x);\n}\n";
    let (model, _) = convert(text).unwrap();
    let d = model.description.clone().unwrap();
    let array = |f: &spec::FeatureDescription| match f.r#type.as_ref().unwrap().r#type.as_ref().unwrap() {
        Ft::MultiArrayType(a) => a.clone(),
        Ft::StateType(s) => match s.r#type.as_ref().unwrap() {
            spec::state_feature_type::Type::ArrayType(a) => a.clone(),
        },
        other => panic!("not an array: {other:?}"),
    };
    assert_eq!(
        d.input.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["x", "n"]
    );
    assert_eq!(d.state.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["s"]);
    assert_eq!(
        d.output.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["v", "x"]
    );
    let x = array(&d.input[0]);
    assert_eq!(
        (x.shape, x.data_type),
        (
            vec![1, 1, 4],
            spec::array_feature_type::ArrayDataType::Float16 as i32
        )
    );
    let Some(spec::array_feature_type::ShapeFlexibility::ShapeRange(range)) = x.shape_flexibility else {
        panic!()
    };
    let bounds: Vec<_> = range
        .size_ranges
        .iter()
        .map(|r| (r.lower_bound, r.upper_bound))
        .collect();
    assert_eq!(bounds, [(1, 1), (1, -1), (4, 4)]);
    assert_eq!(
        array(&d.input[1]).data_type,
        spec::array_feature_type::ArrayDataType::Int32 as i32
    );
    assert_eq!(array(&d.state[0]).shape, [2]);
    assert_eq!(array(&d.output[0]).shape, [2]);
    assert_eq!(
        array(&d.output[1]).shape,
        Vec::<i64>::new(),
        "an output with unknown dims has no shape"
    );
    let main = &ml_program(&model).functions["main"];
    assert!(matches!(
        main.inputs[1].r#type.as_ref().unwrap().r#type,
        Some(mil::value_type::Type::StateType(_))
    ));
}

#[test]
fn inputs_core_ml_cannot_pass_are_errors() {
    let fp16_too_early = program("ios15", "", "x").replace("tensor<fp32, [2]> x", "tensor<fp16, [2]> x");
    let int64 = program("ios17", "", "x").replace("tensor<fp32, [2]> x", "tensor<int64, [2]> x");
    for text in [fp16_too_early, int64] {
        let errors = convert(&text).unwrap_err();
        assert_eq!(codes_of(&errors), ["MIL0503"]);
        let span = errors[0].span;
        assert_eq!(&text[span.range()], "x", "{}", errors[0].message);
    }
}

#[test]
fn several_functions_get_one_description_each() {
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [3]> x) {\n    } -> (x);\n\
                \x20   func other<ios18>(tensor<fp32, [2]> y) {\n    } -> (y);\n}\n";
    let (model, _) = convert(text).unwrap();
    let d = model.description.clone().unwrap();
    assert!(d.input.is_empty() && d.output.is_empty());
    assert_eq!(d.default_function_name, "main");
    let names: Vec<_> = d
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.input[0].name.as_str()))
        .collect();
    assert_eq!(names, [("main", "x"), ("other", "y")]);
    assert_eq!(ml_program(&model).functions.len(), 2);
}

#[test]
fn nested_blocks_keep_their_parameters_and_outputs() {
    let body = "        int32 n = const()[name = string(\"n\"), val = int32(3)];\n\
                \x20       int32 i_out, tensor<fp32, [2]> v_out = while_loop(loop_vars = (n, x))[name = string(\"loop\")]\n\
                \x20           block(int32 i, tensor<fp32, [2]> v) {\n\
                \x20                   bool more = greater(x = i, y = int32(0))[name = string(\"more\")];\n\
                \x20               } -> (more)\n\
                \x20           block(int32 j, tensor<fp32, [2]> w) {\n\
                \x20                   int32 j_next = sub(x = j, y = int32(1))[name = string(\"j_next\")];\n\
                \x20               } -> (j_next, w);\n";
    let (model, _) = convert(&program("ios17", body, "v_out")).unwrap();
    let op = &main_ops(&model)[1];
    assert_eq!(op.r#type, "while_loop");
    assert_eq!(
        op.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["i_out", "v_out"]
    );
    let shapes: Vec<_> = op
        .blocks
        .iter()
        .map(|b| {
            let inputs: Vec<_> = b.inputs.iter().map(|i| i.name.clone()).collect();
            (inputs, b.outputs.clone(), b.operations[0].r#type.clone())
        })
        .collect();
    assert_eq!(
        shapes,
        [
            (
                vec!["i".into(), "v".into()],
                vec!["more".into()],
                "greater".into()
            ),
            (
                vec!["j".into(), "w".into()],
                vec!["j_next".into(), "w".into()],
                "sub".into()
            ),
        ]
    );
}

#[test]
fn blobs_are_copied_once_each_with_new_offsets() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("weights")).unwrap();
    let mut source =
        BlobWriter::new(std::fs::File::create(tmp.path().join("weights/weight.bin")).unwrap()).unwrap();
    source.append_bytes(DType::UInt8, 3, &[7, 8, 9]).unwrap();
    let fp16: Vec<u8> = (0..20).collect();
    assert_eq!(source.append_bytes(DType::Fp16, 10, &fp16).unwrap(), 192);
    source.finish().unwrap();
    let blob = |offset: u64| {
        format!(
            "tensor<fp16, [10]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({offset})))"
        )
    };
    let body = format!(
        "        tensor<fp16, [10]> a = const()[name = string(\"a\"), val = {}];\n\
         \x20       tensor<fp16, [10]> b = const()[name = string(\"b\"), val = {}];\n",
        blob(192),
        blob(192)
    );
    let (model, weights) = convert_in(&program("ios17", &body, "x"), tmp.path()).unwrap();
    let offsets: Vec<_> = ["a", "b"]
        .map(|n| match &const_val(&model, n).value {
            Some(V::BlobFileValue(f)) => f.offset,
            _ => panic!(),
        })
        .to_vec();
    assert_eq!(offsets, [64, 64]);
    let mut reader = BlobReader::new(Cursor::new(&weights)).unwrap();
    assert_eq!(reader.count(), 1);
    let record = reader.record(64).unwrap();
    assert_eq!(reader.read_payload(&record).unwrap(), fp16);

    let missing = convert_in(&program("ios17", &body, "x"), &tmp.path().join("nowhere")).unwrap_err();
    assert_eq!(codes_of(&missing), ["MIL0302", "MIL0302"]);
    assert!(missing.iter().all(|d| d.severity == Severity::Error));
}

#[test]
fn program_attributes_become_dictionary_values() {
    let text = program("ios17", "", "x").replace(
        "program(1.3)\n",
        "program(1.3)\n[buildInfo = dict<string, string>({{\"coremlc-version\", \"3505.4.1\"}})]\n",
    );
    let (model, _) = convert(&text).unwrap();
    let info = &ml_program(&model).attributes["buildInfo"];
    let Some(V::ImmediateValue(i)) = &info.value else {
        panic!()
    };
    let Some(mil::value::immediate_value::Value::Dictionary(d)) = &i.value else {
        panic!()
    };
    assert_eq!(d.values.len(), 1);
    let key = d.values[0].key.as_ref().unwrap();
    let value = d.values[0].value.as_ref().unwrap();
    assert_eq!(
        *tensor_field(key),
        Tv::Strings(mil::tensor_value::RepeatedStrings {
            values: vec!["coremlc-version".into()]
        })
    );
    assert_eq!(
        *tensor_field(value),
        Tv::Strings(mil::tensor_value::RepeatedStrings {
            values: vec!["3505.4.1".into()]
        })
    );
}

#[test]
fn ops_newer_than_the_opset_are_errors() {
    let body = "        tensor<fp32, [2]> a = scaled_dot_product_attention(key = x, query = x, value = x)[name = string(\"a\")];\n";
    let text = program("ios17", body, "a");
    let errors = convert(&text).unwrap_err();
    assert_eq!(codes_of(&errors), ["MIL0505"]);
    assert_eq!(&text[errors[0].span.range()], "scaled_dot_product_attention");
    assert_eq!(
        errors[0].message,
        "`scaled_dot_product_attention` needs ios18 or later; this function is ios17"
    );
    assert!(convert(&program("ios18", body, "a")).is_ok());
}

#[test]
fn flexible_shape_information_gives_the_inputs_ranges_and_defaults() {
    // As Apple's compiler writes it (shared/corpus/004_fa_transpose.mil, reduced).
    let text = r#"program(1.0)
{
    func main<ios16>(tensor<fp16, [1, ?, ?]> x) [FlexibleShapeInformation = tuple<tuple<tensor<string, []>, dict<tensor<string, []>, tensor<int32, [?]>>>, tuple<tensor<string, []>, dict<tensor<string, []>, list<tensor<int32, [2]>, ?>>>>((("DefaultShapes", {{"x", [1, 3, 1]}}), ("RangeDims", {{"x", [[1, 1], [2, 2048], [1, -1]]}})))] {
            tensor<fp16, [1, ?, ?]> y = relu(x = x)[name = tensor<string, []>("y")];
        } -> (y);
}
"#;
    let (model, _) = convert(text).unwrap();
    let input = &model.description.unwrap().input[0];
    let Some(Ft::MultiArrayType(array)) = input.r#type.as_ref().unwrap().r#type.as_ref() else {
        panic!("{input:?}");
    };
    assert_eq!(array.shape, [1, 3, 1]);
    let Some(spec::array_feature_type::ShapeFlexibility::ShapeRange(range)) = &array.shape_flexibility else {
        panic!("{array:?}");
    };
    let bounds: Vec<_> = range
        .size_ranges
        .iter()
        .map(|r| (r.lower_bound, r.upper_bound))
        .collect();
    assert_eq!(bounds, [(1, 1), (2, 2048), (1, -1)]);
    let Some(spec::model::Type::MlProgram(program)) = &model.r#type else {
        unreachable!()
    };
    assert!(
        program.functions["main"].attributes.is_empty(),
        "the attribute became the ranges"
    );
    // Without the attribute: a default of 1 and no upper bound.
    let plain = text.replace(
        text[text.find(" [Flexible").unwrap()..text.find(" {\n  ").unwrap()].trim_end(),
        "",
    );
    let (model, _) = convert(&plain).unwrap();
    let Some(Ft::MultiArrayType(array)) = model.description.unwrap().input[0].r#type.clone().unwrap().r#type
    else {
        unreachable!()
    };
    assert_eq!(array.shape, [1, 1, 1]);
}

#[test]
fn a_kept_description_is_written_while_it_fits_and_else_a_warning_says_what_is_lost() {
    use prost::Message;
    // A description the text cannot say: a string label output and metadata.
    let description = spec::ModelDescription {
        input: vec![spec::FeatureDescription {
            name: "x".into(),
            short_description: "the input".into(),
            r#type: Some(spec::FeatureType {
                r#type: Some(Ft::MultiArrayType(spec::ArrayFeatureType {
                    shape: vec![2],
                    data_type: spec::array_feature_type::ArrayDataType::Float32 as i32,
                    ..Default::default()
                })),
                is_optional: false,
            }),
        }],
        output: vec![spec::FeatureDescription {
            name: "label".into(),
            short_description: String::new(),
            r#type: Some(spec::FeatureType {
                r#type: Some(Ft::StringType(spec::StringFeatureType {})),
                is_optional: false,
            }),
        }],
        predicted_feature_name: "label".into(),
        metadata: Some(spec::Metadata {
            author: "someone".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let raw = description.encode_to_vec();
    let attribute = crate::kept_description::attribute(&raw, "1.3");
    let mut printed = mil_ir::printer::print_program(&mil_ir::Program {
        version: "1.3".into(),
        attributes: vec![attribute],
        ..Default::default()
    });
    printed.truncate(printed.find('{').unwrap());
    let body = "        string label = const()[name = string(\"label\"), val = string(\"a\")];";
    let text = program("ios18", body, "label").replacen("program(1.3)\n", &printed, 1);
    let parsed = mil_grammar::parse(&text);
    let mut blobs = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
    let converted = to_proto(
        &parsed.program,
        &parsed.source_map,
        &mut WeightFiles::default(),
        &mut blobs,
    )
    .unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(converted.warnings.is_empty());
    assert_eq!(converted.kept_description.as_deref(), Some(raw.as_slice()));
    let model = Model::decode(converted.encode().as_slice()).unwrap();
    assert_eq!(model.description.as_ref(), Some(&description));
    let Some(spec::model::Type::MlProgram(p)) = &model.r#type else {
        unreachable!()
    };
    assert!(
        p.attributes.is_empty(),
        "the kept description is no program attribute"
    );

    // Renamed output: not used, and without it the string output cannot be described.
    let parsed = mil_grammar::parse(
        &text
            .replace("string label", "string tag")
            .replace("-> (label)", "-> (tag)"),
    );
    let found = problems(&parsed.program, &parsed.source_map);
    let codes: Vec<_> = found.iter().map(|d| (d.code.id, d.severity)).collect();
    assert_eq!(
        codes,
        [
            ("MIL0503", mil_ir::Severity::Error),
            ("MIL0507", mil_ir::Severity::Warning)
        ],
        "{found:#?}"
    );
    assert!(
        found[1]
            .message
            .contains(r#"the description's outputs are ["label"], the text's ["tag"]"#),
        "{}",
        found[1].message
    );
}

#[test]
fn constexpr_parameters_are_inputs_from_ios18_and_attributes_before() {
    let op = |opset: &str| {
        let body = "            tensor<fp32, [2]> c = constexpr_cast()[name = string(\"c\"), output_dtype = string(\"fp32\"), source_val = tensor<fp16, [2]>([0x1p+0, 0x1p+1])];\n            tensor<fp32, [2]> y = add(x = x, y = c)[name = string(\"y\")];";
        let (model, _) = convert(&program(opset, body, "y")).unwrap();
        let c = main_ops(&model)[0].clone();
        (
            c.inputs.keys().cloned().collect::<Vec<_>>(),
            c.attributes.keys().cloned().collect::<Vec<_>>(),
        )
    };
    // coremltools' `translate_constexpr`: attributes up to ios17, inputs bound to values from ios18.
    assert_eq!(
        op("ios17"),
        (
            vec![],
            vec!["name".into(), "output_dtype".into(), "source_val".into()]
        )
    );
    assert_eq!(
        op("ios18"),
        (
            vec!["output_dtype".into(), "source_val".into()],
            vec!["name".into()]
        )
    );
    // An op whose definition predates ios18 keeps attributes in an ios18 function, as coremltools
    // writes it (by the op's own opset version).
    let body = "            tensor<fp32, [2]> c = constexpr_affine_dequantize()[axis = int32(0), name = string(\"c\"), quantized_data = tensor<int8, [2]>([1, 2]), scale = fp32(0.5), zero_point = int8(0)];\n            tensor<fp32, [2]> y = add(x = x, y = c)[name = string(\"y\")];";
    let (model, _) = convert(&program("ios18", body, "y")).unwrap();
    assert!(main_ops(&model)[0].inputs.is_empty());
}
