//! The rewrite on small programs, against hand-worked values: which consts are replaced, by which
//! op, with which integers, scales and zero points.

use expect_test::expect;
use mil_ir::weights::MemoryWeights;
use mil_quant::linear::{IntType, Mode};
use mil_quant::{Config, Granularity, QuantError, Quantized, quantize_weights};

/// A linear layer whose 2×5 weight has a channel reaching ±127 (scale 1 when symmetric: the
/// integers are the values, half-way ones rounded to even) and an all-zero channel.
fn program(opset: &str, version: &str) -> String {
    format!(
        "program({version})\n{{\n    func main<{opset}>(tensor<fp32, [1, 5]> x) {{\n            \
         tensor<fp32, [2, 5]> w = const()[name = string(\"w\"), val = tensor<fp32, [2, 5]>([-127, 50, 0.5, 1.5, 127, 0, 0, 0, 0, 0])];\n            \
         tensor<fp32, [1, 2]> y = linear(weight = w, x = x)[name = string(\"y\")];\n        }} -> (y);\n}}\n"
    )
}

fn quantize(text: &str, config: Config) -> (String, MemoryWeights) {
    let mut parse = mil_grammar::parse(text);
    assert!(
        !mil_ir::diagnostic::has_errors(&parse.diagnostics),
        "{:?}",
        parse.diagnostics
    );
    let mut store = MemoryWeights::default();
    let mut memory = MemoryWeights::default();
    let done = quantize_weights(&mut parse.program, &mut store, &mut memory, &config).unwrap();
    assert_eq!(done.len(), 1);
    (mil_ir::printer::print_program(&parse.program), memory)
}

/// Quantises `program`, whose weights are all inline, as `config` says.
fn run(program: &mut mil_ir::Program, config: &Config) -> Result<Vec<Quantized>, QuantError> {
    quantize_weights(
        program,
        &mut MemoryWeights::default(),
        &mut MemoryWeights::default(),
        config,
    )
}

fn config(int: IntType, mode: Mode, granularity: Granularity) -> Config {
    Config {
        int,
        mode,
        granularity,
        threshold: 0,
    }
}

/// The bytes of the first weight `memory` holds (the quantised data).
fn data(memory: &MemoryWeights) -> &[u8] {
    let blob = mil_ir::BlobRef {
        path: mil_ir::weights::MEMORY_PATH.into(),
        offset: 0,
        rank0_spelling: false,
    };
    memory.get(&blob).unwrap().1
}

#[test]
fn each_opset_gets_the_op_coremltools_writes() {
    // iOS18, int8 symmetric per channel: data and scales, no offset; scale 1 for the channel
    // reaching 127 (the integers are the values, half-way ones rounded to even), 0 for the zero one.
    let (ios18, memory18) = quantize(
        &program("ios18", "1.3"),
        config(IntType::Int8, Mode::Symmetric, Granularity::PerChannel),
    );
    assert_eq!(data(&memory18), &[(-127i8) as u8, 50, 0, 2, 127, 0, 0, 0, 0, 0]);
    // iOS16, uint8 symmetric per tensor: scalar scale 1, zero point 127 (shifting every value), axis 0.
    let (ios16, memory16) = quantize(
        &program("ios16", "1.0"),
        config(IntType::UInt8, Mode::Symmetric, Granularity::PerTensor),
    );
    assert_eq!(data(&memory16), &[0, 177, 127, 129, 254, 127, 127, 127, 127, 127]);
    expect![[r#"
        program(1.3)
        {
            func main<ios18>(tensor<fp32, [1, 5]> x) {
                    tensor<fp32, [2, 5]> w_quantized = constexpr_blockwise_shift_scale(data = tensor<int8, [2, 5]>(BLOBFILE(path = string("@memory"), offset = uint64(0))), scale = tensor<fp32, [2, 1]>([[0x1p+0], [0x0p+0]]))[name = string("w_quantized")];
                    tensor<fp32, [1, 2]> y = linear(weight = w_quantized, x = x)[name = string("y")];
                } -> (y);
        }
        program(1.0)
        {
            func main<ios16>(tensor<fp32, [1, 5]> x) {
                    tensor<fp32, [2, 5]> w_quantized = constexpr_affine_dequantize()[axis = tensor<int32, []>(0), name = string("w_quantized"), quantized_data = tensor<uint8, [2, 5]>(BLOBFILE(path = tensor<string, []>("@memory"), offset = tensor<uint64, []>(0))), scale = tensor<fp32, []>(0x1p+0), zero_point = tensor<uint8, []>(127)];
                    tensor<fp32, [1, 2]> y = linear(weight = w_quantized, x = x)[name = string("y")];
                } -> (y);
        }"#]]
    .assert_eq(&format!("{ios18}\n{ios16}"));
}

#[test]
fn affine_per_channel_gives_each_channel_its_zero_point() {
    // Channel 0 spans [-127, 127]: scale 254/255, zero point round((-128*127 - 127*-127)/254) =
    // round(-0.5) = -0 → 0. Channel 1 is all zero: scale 0, zero point NaN → 0, data 0.
    let (printed, memory) = quantize(
        &program("ios18", "1.3"),
        config(IntType::Int8, Mode::Affine, Granularity::PerChannel),
    );
    let scale = 254f32 / 255.0;
    assert!(
        printed.contains(&format!(
            "scale = tensor<fp32, [2, 1]>([[{}], [0x0p+0]])",
            mil_ir::float::format_hex(f64::from(scale))
        )),
        "{printed}"
    );
    assert!(
        printed.contains("offset = tensor<int8, [2, 1]>([[0], [0]])"),
        "{printed}"
    );
    let q: Vec<i8> = [-127f32, 50.0, 0.5, 1.5, 127.0]
        .iter()
        .map(|w| (w / scale).round_ties_even() as i8)
        .collect();
    let mut expected: Vec<u8> = q.iter().map(|&v| v as u8).collect();
    expected.extend([0; 5]);
    assert_eq!(data(&memory), expected.as_slice());
}

#[test]
fn small_one_dimensional_and_unread_consts_are_left_alone() {
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 5]> x) {\n            \
        tensor<fp32, [5]> b = const()[name = string(\"b\"), val = tensor<fp32, [5]>([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])];\n            \
        tensor<fp32, [3, 3]> s = const()[name = string(\"s\"), val = tensor<fp32, [3, 3]>([1, 2, 3, 4, 5, 6, 7, 8, 9])];\n            \
        tensor<fp32, [2, 5]> r = const()[name = string(\"r\"), val = tensor<fp32, [2, 5]>([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])];\n            \
        tensor<fp32, [1, 5]> y = add(x = x, y = b)[name = string(\"y\")];\n            \
        tensor<fp32, [3, 3]> z = relu(x = s)[name = string(\"z\")];\n        } -> (y, z, r);\n}\n";
    let mut parse = mil_grammar::parse(text);
    let before = mil_ir::printer::print_program(&parse.program);
    let done = run(
        &mut parse.program,
        &config(IntType::Int8, Mode::Symmetric, Granularity::PerChannel),
    )
    .unwrap();
    assert!(done.is_empty());
    assert_eq!(mil_ir::printer::print_program(&parse.program), before);
}

#[test]
fn the_threshold_is_exclusive() {
    let text = program("ios18", "1.3");
    let mut parse = mil_grammar::parse(&text);
    let mut c = config(IntType::Int8, Mode::Symmetric, Granularity::PerChannel);
    c.threshold = 10;
    let done = run(&mut parse.program, &c).unwrap();
    assert!(done.is_empty());
    c.threshold = 9;
    let done = run(&mut parse.program, &c).unwrap();
    assert_eq!((done[0].bytes_before, done[0].bytes_after), (40, 10 + 8));
}

#[test]
fn ios15_is_refused_and_the_program_left_as_it_was() {
    let text = program("ios15", "1.0");
    let mut parse = mil_grammar::parse(&text);
    let before = parse.program.clone();
    let found = run(&mut parse.program, &Config::default());
    assert!(matches!(found, Err(QuantError::OpsetTooOld { .. })));
    assert_eq!(parse.program, before);
}

#[test]
fn per_block_scales_each_block_of_input_channels() {
    // One output channel of 10 inputs in blocks of 5: the first reaches 127 (scale 1), the second
    // 63.5 (scale 0.5); half-way quotients round to even.
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 10]> x) {\n            \
        tensor<fp32, [1, 10]> w = const()[name = string(\"w\"), val = tensor<fp32, [1, 10]>([127, 1.5, 0.5, -2.5, 3, 63.5, 1, 0.25, 0.75, -63.5])];\n            \
        tensor<fp32, [1, 1]> y = linear(weight = w, x = x)[name = string(\"y\")];\n        } -> (y);\n}\n";
    let (printed, memory) = quantize(
        text,
        config(IntType::Int8, Mode::Symmetric, Granularity::PerBlock(5)),
    );
    assert!(
        printed.contains("scale = tensor<fp32, [1, 2]>([[0x1p+0, 0x1p-1]])"),
        "{printed}"
    );
    let expected: Vec<u8> = [127i8, 2, 0, -2, 3, 127, 2, 0, 2, -127]
        .iter()
        .map(|&q| q as u8)
        .collect();
    assert_eq!(data(&memory), expected.as_slice());
    // Blocks of 4 do not divide 10: the weight is left alone; below iOS18 per-block is refused.
    let mut parse = mil_grammar::parse(text);
    let blocks_of_4 = config(IntType::Int8, Mode::Symmetric, Granularity::PerBlock(4));
    assert!(run(&mut parse.program, &blocks_of_4).unwrap().is_empty());
    let mut parse = mil_grammar::parse(&text.replace("ios18", "ios17"));
    assert!(matches!(
        run(&mut parse.program, &blocks_of_4),
        Err(QuantError::NeedsIos18 { .. })
    ));
}

#[test]
fn four_bit_data_is_packed_two_to_a_byte_low_nibble_first() {
    // Values within ±7 quantise to themselves (scale 1), half-way ones to even.
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 10]> x) {\n            \
        tensor<fp32, [1, 10]> w = const()[name = string(\"w\"), val = tensor<fp32, [1, 10]>([7, -7, 1, 2, -3, 0.5, 1.5, 2.5, 0, 4])];\n            \
        tensor<fp32, [1, 1]> y = linear(weight = w, x = x)[name = string(\"y\")];\n        } -> (y);\n}\n";
    let int4 = config(IntType::Int4, Mode::Symmetric, Granularity::PerChannel);
    let (printed, memory) = quantize(text, int4);
    assert!(
        printed.contains("data = tensor<int4, [1, 10]>(BLOBFILE"),
        "{printed}"
    );
    // [7, -7, 1, 2, -3, 0, 2, 2, 0, 4] as nibbles.
    assert_eq!(data(&memory), &[0x97, 0x21, 0x0D, 0x22, 0x40]);
    let mut parse = mil_grammar::parse(&text.replace("ios18", "ios17"));
    assert!(matches!(
        run(&mut parse.program, &int4),
        Err(QuantError::NeedsIos18 { .. })
    ));
}
