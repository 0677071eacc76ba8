//! The proofs of the size-limit rewrites (`split-large-kernel`, `cascade-max-pool`,
//! `split-matmul-inner`): for random shapes and parameters (kernel sizes beyond the Neural
//! Engine's, strides, dilations, every pad type, groups, bias, transposes) and random inputs with
//! edge values, a one-op program and its rewrite give the same output in the reference interpreter
//! — fp32 within a relative error of 1e-5, fp16 at a PSNR of at least 60 dB — the rewritten program
//! passes the verifier and the type checker and prints to text that parses back to the same text,
//! and our planner finds the size limit's rule (ANE015, ANE016, ANE017) on the original and no
//! longer on the rewrite, with no op refused by kind (ANE001).
//!
//! The floor of the relative error: the pool cascade is exact (a maximum of the same values), so
//! its error is relative everywhere (floor 1e-6). A conv or a matmul is a sum, and the split sums
//! its terms in another order; the error of a sum is relative to the sum of the magnitudes of its
//! terms, not to the sum, so the floor is the expected sum of magnitudes, n·E|w|·E|x| = n/4 for n
//! terms of weights and inputs uniform in [−1, 1].
//!
//! In fp16 every partial sum of the split is rounded to fp16 before they are added, where the
//! original rounds once; on an output of a few elements whose peak is a sum that cancels, that
//! rounding (half an ulp of the terms' scale) reads as a PSNR below 60 dB (47 dB seen on a matmul
//! with two outputs). The fp16 check is therefore PSNR ≥ 60 dB or every element within half an
//! fp16 ulp relative to the sum of magnitudes.

mod common;

use common::{
    agrees, find, findings, input_seeds, parse, random_values, rewrite_first, tensor_type, well_formed,
};
use mil_eval::inputs::SplitMix;
use mil_eval::{Named, Tensor};
use mil_ir::DType;
use mil_rewrite::proof::compare;
use mil_rewrite::{Rewrite, large_kernel, matmul_inner, pool_cascade};
use proptest::prelude::*;

/// In fp16, the error relative to the sum of magnitudes that passes a PSNR below 60 dB: half an
/// ulp, the rounding of the sum itself (see the module's documentation).
const FP16_HALF_ULP: f64 = 1.0 / 2048.0;

/// One program under test.
struct Case {
    rewrite: &'static Rewrite,
    kind: &'static str,
    /// The rule that fires on the original.
    rule: &'static str,
    text: String,
    /// Each input's name and shape.
    inputs: Vec<(String, Vec<usize>)>,
    floor: f64,
}

/// `tensor<int32, [2]>([1, 2])`.
fn ints(v: &[usize]) -> String {
    let items: Vec<String> = v.iter().map(usize::to_string).collect();
    format!("tensor<int32, [{}]>([{}])", v.len(), items.join(", "))
}

/// A program with `consts`, one op `out = statement` of output shape `out`, and `inputs`.
fn program(
    dtype: DType,
    inputs: &[(String, Vec<usize>)],
    consts: &[String],
    out: &[usize],
    statement: &str,
) -> String {
    let params: Vec<String> = inputs
        .iter()
        .map(|(n, s)| format!("{} {n}", tensor_type(dtype, s)))
        .collect();
    let consts: String = consts.iter().map(|c| format!("        {c}\n")).collect();
    format!(
        "program(1.3)\n{{\n    func main<ios18>({}) {{\n{consts}        {} out = {statement}[name = string(\"out\")];\n    }} -> (out);\n}}\n",
        params.join(", "),
        tensor_type(dtype, out)
    )
}

/// The output size of a window: `in` padded by `pad`, a kernel spanning `span`, stride `s`.
fn outputs(input: usize, pad: usize, span: usize, s: usize) -> usize {
    (input + pad - span) / s + 1
}

/// `pad_type` and its pads, chosen by `pick`, for spatial `input` dims, kernel spans and strides;
/// returns the arguments and the total padding per dim.
fn padding(
    pick: &mut impl FnMut(u64) -> usize,
    input: &[usize],
    spans: &[usize],
    strides: &[usize],
) -> (String, Vec<usize>) {
    match pick(4) {
        0 => ("pad_type = string(\"valid\")".into(), vec![0; input.len()]),
        1 => {
            let pad: Vec<usize> = (0..2 * input.len()).map(|_| pick(4)).collect();
            let totals = pad.chunks(2).map(|p| p[0] + p[1]).collect();
            (
                format!("pad = {}, pad_type = string(\"custom\")", ints(&pad)),
                totals,
            )
        }
        k => {
            let totals = (0..input.len())
                .map(|i| {
                    ((input[i].div_ceil(strides[i]) - 1) * strides[i] + spans[i]).saturating_sub(input[i])
                })
                .collect();
            let name = if k == 2 { "same" } else { "same_lower" };
            (format!("pad_type = string(\"{name}\")"), totals)
        }
    }
}

/// A conv with a kernel beyond the Neural Engine's, drawn from `seed`.
fn conv_case(dtype: DType, seed: u64) -> Case {
    let mut rng = SplitMix::new(seed);
    let mut pick = |n: u64| (rng.next_u64() % n) as usize;
    let kernel: Vec<usize> = match pick(5) {
        0 => vec![17 + pick(4); 2],
        1 => vec![1, 16 + pick(25)],
        2 => vec![32 + pick(9), 1],
        3 => vec![2 + pick(3), 17 + pick(3)],
        _ => vec![16 + pick(5)],
    };
    let n = kernel.len();
    let (groups, cin_g, cout) = if pick(3) == 0 {
        (2, 1, 2)
    } else {
        (1, 1 + pick(2), 1 + pick(3))
    };
    let strides: Vec<usize> = (0..n).map(|_| 1 + pick(2)).collect();
    let dilations: Vec<usize> = (0..n).map(|_| 1 + pick(2) * usize::from(pick(2) == 0)).collect();
    let spans: Vec<usize> = (0..n).map(|i| (kernel[i] - 1) * dilations[i] + 1).collect();
    let spatial: Vec<usize> = spans.iter().map(|&s| s + pick(6)).collect();
    let (pad_args, pads) = padding(&mut pick, &spatial, &spans, &strides);
    let batch = 1 + pick(2);
    let x_shape = [&[batch, groups * cin_g][..], &spatial].concat();
    let w_shape = [&[cout * groups, cin_g][..], &kernel].concat();
    let out: Vec<usize> = [
        &[batch, cout * groups][..],
        &(0..n)
            .map(|i| outputs(spatial[i], pads[i], spans[i], strides[i]))
            .collect::<Vec<_>>(),
    ]
    .concat();
    // The weight is an input, as a kernel in a weight file is to the rewrite (which slices it).
    let mut consts = Vec::new();
    let bias = if rng.next_u64().is_multiple_of(2) {
        let b_ty = tensor_type(dtype, &[cout * groups]);
        let v: Vec<String> = (0..cout * groups)
            .map(|_| format!("{:?}", 2.0 * rng.unit() - 1.0))
            .collect();
        consts.push(format!(
            "{b_ty} b = const()[name = string(\"b\"), val = {b_ty}([{}])];",
            v.join(", ")
        ));
        "bias = b, "
    } else {
        ""
    };
    let statement = format!(
        "conv({bias}dilations = {}, groups = int32({groups}), {pad_args}, strides = {}, weight = w, x = x)",
        ints(&dilations),
        ints(&strides)
    );
    let inputs = vec![("x".to_string(), x_shape), ("w".to_string(), w_shape)];
    let terms = cin_g * kernel.iter().product::<usize>();
    Case {
        rewrite: &large_kernel::SPLIT_LARGE_KERNEL,
        kind: "conv",
        rule: "ANE015",
        text: program(dtype, &inputs, &consts, &out, &statement),
        inputs,
        floor: terms as f64 / 4.0,
    }
}

/// A max_pool with a kernel width the Neural Engine refuses, drawn from `seed`.
fn pool_case(dtype: DType, seed: u64) -> Case {
    let mut rng = SplitMix::new(seed);
    let mut pick = |n: u64| (rng.next_u64() % n) as usize;
    let width = [9, 10, 15, 16, 17, 31, 33, 40][pick(8)];
    let kernel: Vec<usize> = if pick(3) == 0 {
        vec![width]
    } else {
        vec![1 + pick(3), width]
    };
    let n = kernel.len();
    let strides: Vec<usize> = (0..n).map(|_| 1 + pick(3)).collect();
    let spatial: Vec<usize> = kernel.iter().map(|&k| k + pick(8)).collect();
    let (pad_args, pads) = padding(&mut pick, &spatial, &kernel, &strides);
    let x_shape = [&[1 + pick(2), 1 + pick(3)][..], &spatial].concat();
    let out: Vec<usize> = [
        &x_shape[..2],
        &(0..n)
            .map(|i| outputs(spatial[i], pads[i], kernel[i], strides[i]))
            .collect::<Vec<_>>(),
    ]
    .concat();
    let statement = format!(
        "max_pool(ceil_mode = false, kernel_sizes = {}, {pad_args}, strides = {}, x = x)",
        ints(&kernel),
        ints(&strides)
    );
    let inputs = vec![("x".to_string(), x_shape)];
    Case {
        rewrite: &pool_cascade::CASCADE_MAX_POOL,
        kind: "max_pool",
        rule: "ANE016",
        text: program(dtype, &inputs, &[], &out, &statement),
        inputs,
        floor: 1e-6,
    }
}

/// A matmul with an inner dimension above 32,768, drawn from `seed`.
fn matmul_case(dtype: DType, seed: u64) -> Case {
    let mut rng = SplitMix::new(seed);
    let mut pick = |n: u64| (rng.next_u64() % n) as usize;
    let k = 32_769 + pick(4_000);
    let (m, n) = (1 + pick(2), 1 + pick(2));
    let (tx, ty) = (pick(2) == 1, pick(2) == 1);
    let batch: Vec<usize> = if pick(2) == 0 { vec![] } else { vec![2] };
    let x = [&batch[..], &if tx { [k, m] } else { [m, k] }].concat();
    let y = [&batch[..], &if ty { [n, k] } else { [k, n] }].concat();
    let out = [&batch[..], &[m, n][..]].concat();
    let statement = format!("matmul(transpose_x = {tx}, transpose_y = {ty}, x = x, y = y)");
    let inputs = vec![("x".to_string(), x), ("y".to_string(), y)];
    Case {
        rewrite: &matmul_inner::SPLIT_MATMUL_INNER,
        kind: "matmul",
        rule: "ANE017",
        text: program(dtype, &inputs, &[], &out, &statement),
        inputs,
        floor: k as f64 / 4.0,
    }
}

/// Random inputs in [−1, 1], with edge values (0, ±1) first.
fn inputs(case: &Case, dtype: DType, seed: u64) -> Named {
    let mut rng = SplitMix::new(seed);
    case.inputs
        .iter()
        .map(|(name, shape)| {
            let n = shape.iter().product();
            let values = random_values(&mut rng, n, -1.0, 1.0, &[0.0, 1.0, -1.0]);
            (name.clone(), Tensor::from_f32(dtype, shape.clone(), values))
        })
        .collect()
}

/// Rewrites the case's op and checks the result as the module's documentation says.
fn prove(case: &Case, dtype: DType, seed: u64) {
    let text = &case.text;
    let (original, map) = parse(text);
    assert!(
        findings(&original).contains(&case.rule),
        "{} should fire\n{text}",
        case.rule
    );
    let (rewritten, map_after) = rewrite_first(case.rewrite, &original, &map, case.kind);
    let (printed, reparsed) = well_formed(&rewritten, &map_after);
    let after = findings(&reparsed);
    assert!(
        !after.contains(&case.rule) && !after.contains(&"ANE001"),
        "{after:?}\n{printed}"
    );
    for seed in input_seeds(seed) {
        let inputs = inputs(case, dtype, seed);
        for a in compare(&original, &reparsed, &inputs, case.floor).unwrap() {
            assert!(agrees(dtype, &a, a.max_rel_error, FP16_HALF_ULP), "{a:?}\n{text}");
        }
    }
}

const MAKERS: [fn(DType, u64) -> Case; 3] = [conv_case, pool_case, matmul_case];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn fp32_size_limit_rewrites_agree(which in 0..3usize, seed in any::<u64>()) {
        prove(&MAKERS[which](DType::Fp32, seed), DType::Fp32, seed);
    }

    #[test]
    fn fp16_size_limit_rewrites_agree(which in 0..3usize, seed in any::<u64>()) {
        prove(&MAKERS[which](DType::Fp16, seed), DType::Fp16, seed);
    }
}

/// Each rewrite on 16 fixed seeds in both precisions, so that each is proven on every run.
#[test]
fn every_size_limit_rewrite_agrees_on_fixed_seeds() {
    for make in MAKERS {
        for seed in 0..16 {
            for dtype in [DType::Fp32, DType::Fp16] {
                prove(&make(dtype, seed), dtype, seed);
            }
        }
    }
}

/// Ops within the limits are left alone, with the reason.
#[test]
fn ops_within_the_limits_are_refused() {
    let inputs = vec![("x".to_string(), vec![1, 1, 20, 20])];
    let w_ty = tensor_type(DType::Fp32, &[1, 1, 16, 16]);
    let weights = vec!["0.5"; 256].join(", ");
    let w = format!("{w_ty} w = const()[name = string(\"w\"), val = {w_ty}([{weights}])];");
    let conv = program(
        DType::Fp32,
        &inputs,
        &[w],
        &[1, 1, 5, 5],
        "conv(pad_type = string(\"valid\"), weight = w, x = x)",
    );
    let (p, _) = parse(&conv);
    let why = large_kernel::SPLIT_LARGE_KERNEL
        .check(&p.functions[0], find(&p, "conv"))
        .unwrap_err();
    assert_eq!(why.0, "a 16×16 kernel fits the Neural Engine");
    let statement = format!(
        "max_pool(kernel_sizes = {}, pad_type = string(\"valid\"), strides = {}, x = x)",
        ints(&[1, 8]),
        ints(&[1, 1])
    );
    let (p, _) = parse(&program(DType::Fp32, &inputs, &[], &[1, 1, 20, 13], &statement));
    let why = pool_cascade::CASCADE_MAX_POOL
        .check(&p.functions[0], find(&p, "max_pool"))
        .unwrap_err();
    assert_eq!(why.0, "a width of 8 fits the Neural Engine");
    let inputs = vec![
        ("x".to_string(), vec![2, 32_768]),
        ("y".to_string(), vec![32_768, 2]),
    ];
    let (p, _) = parse(&program(
        DType::Fp32,
        &inputs,
        &[],
        &[2, 2],
        "matmul(x = x, y = y)",
    ));
    let why = matmul_inner::SPLIT_MATMUL_INNER
        .check(&p.functions[0], find(&p, "matmul"))
        .unwrap_err();
    assert_eq!(why.0, "an inner dimension of 32768 fits the Neural Engine");
}
