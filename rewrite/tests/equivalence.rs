//! The proof of each rewrite: for random shapes, parameters and inputs in the op's domain (edge
//! values included), a one-op program and its rewrite give the same outputs in the reference
//! interpreter — fp32 within a relative error of 1e-5, fp16 at a PSNR of at least 60 dB — and the
//! rewritten program passes the verifier and the type checker, prints to text that parses back to
//! the same text, and has no op left that the Neural Engine refuses by kind (ANE001).
//!
//! The relative error is |got − want| / max(|want|, floor). The floor is where an op's error stops
//! being relative: 1e-6 (relative everywhere) for tan, asin, acos, sinh, cosh and band_part; 1e-2
//! for atanh, whose `1 + x` near 0 keeps an absolute error of about an ulp of 1; 1 for mod and
//! cumsum, whose results are differences and sums of O(1) inputs (the error of a sum is relative
//! to the sum of magnitudes, not to the sum).
//!
//! In fp16 the same holds for atanh and mod. For atanh, `1 + x` rounds to 1 for |x| < 2⁻¹¹, so
//! near 0 the rewrite is within about 2⁻¹¹ of the op rather than relatively close; for mod,
//! `floor_div(x, y)·y` rounds to an fp16 ulp of |x| (2⁻⁸ for |x| ≤ 4). Their fp16 check is
//! therefore PSNR ≥ 60 dB or every element within 2⁻¹⁰ (atanh) or 2⁻⁸ (mod), relative above 1 —
//! the second for tensors whose values are all small, whose tiny peak makes the PSNR measure that
//! absolute error.

mod common;

use common::{agrees, findings, input_seeds, parse, random_values, rewrite_first, tensor_type, well_formed};
use mil_eval::inputs::SplitMix;
use mil_eval::{Named, Tensor};
use mil_ir::DType;
use mil_rewrite::proof::compare;
use mil_rewrite::{Rewrite, band_part, cumsum, hyperbolic, inverse_trig, modulo, tan};
use proptest::prelude::*;

/// One op under test: its statement and where its inputs are drawn from.
struct Case {
    /// The rewrite.
    rewrite: &'static Rewrite,
    /// The op's kind.
    kind: &'static str,
    /// Its arguments after the inputs (`, axis = 0`), written by [`Case::extra`].
    extra: fn(&[usize], u64) -> String,
    /// Each input: name, range, and edge values put at its first positions.
    inputs: &'static [(&'static str, f32, f32, &'static [f32])],
    /// The floor of the relative error (see the module's documentation).
    floor: f64,
    /// In fp16, the error (relative above 1) that passes a PSNR below 60 dB; 0 for none.
    fp16_near: f64,
}

fn none(_: &[usize], _: u64) -> String {
    String::new()
}

/// `, axis = A, exclusive = E, reverse = R`, chosen from `seed` for a tensor of `shape`.
fn cumsum_params(shape: &[usize], seed: u64) -> String {
    let rank = shape.len() as i64;
    let axis = ((seed >> 2) % (2 * rank as u64)) as i64 - rank;
    let (exclusive, reverse) = (seed & 1 == 1, seed & 2 == 2);
    format!(", axis = {axis}, exclusive = {exclusive}, reverse = {reverse}")
}

/// `, lower = L, upper = U`, each from −1 (no bound) to 3, chosen from `seed`.
fn band_params(_: &[usize], seed: u64) -> String {
    let (lower, upper) = ((seed % 5) as i64 - 1, (seed / 5 % 5) as i64 - 1);
    format!(", lower = {lower}, upper = {upper}")
}

const UNIT: &[f32] = &[-1.0, 1.0, 0.0, -0.999_999, 0.999_999, 1e-4, -1e-4];

const CASES: &[Case] = &[
    Case {
        rewrite: &tan::TAN_TO_SIN_COS,
        kind: "tan",
        extra: none,
        inputs: &[("x", -1.5, 1.5, &[0.0, -1.5, 1.5, 1e-4, -1e-4, 1.0])],
        floor: 1e-6,
        fp16_near: 0.0,
    },
    Case {
        rewrite: &hyperbolic::HYPERBOLIC_TO_EXP,
        kind: "sinh",
        extra: none,
        inputs: &[("x", -10.0, 10.0, &[0.0, 10.0, -10.0, 1e-4, -1e-4])],
        floor: 1e-6,
        fp16_near: 0.0,
    },
    Case {
        rewrite: &hyperbolic::HYPERBOLIC_TO_EXP,
        kind: "cosh",
        extra: none,
        inputs: &[("x", -10.0, 10.0, &[0.0, 10.0, -10.0, 1e-4])],
        floor: 1e-6,
        fp16_near: 0.0,
    },
    Case {
        rewrite: &inverse_trig::ARC_TO_ATAN,
        kind: "asin",
        extra: none,
        inputs: &[("x", -1.0, 1.0, UNIT)],
        floor: 1e-6,
        fp16_near: 0.0,
    },
    Case {
        rewrite: &inverse_trig::ARC_TO_ATAN,
        kind: "acos",
        extra: none,
        inputs: &[("x", -1.0, 1.0, UNIT)],
        floor: 1e-6,
        fp16_near: 0.0,
    },
    Case {
        rewrite: &inverse_trig::ATANH_TO_LOG,
        kind: "atanh",
        extra: none,
        inputs: &[("x", -1.0, 1.0, UNIT)],
        floor: 1e-2,
        fp16_near: 1.0 / 1024.0,
    },
    Case {
        rewrite: &modulo::MOD_TO_FLOOR_DIV,
        kind: "mod",
        extra: none,
        inputs: &[
            ("x", -4.0, 4.0, &[0.0, 3.0, -3.0, 4.0, -0.5]),
            ("y", 0.5, 4.0, &[0.5, 1.5, 4.0, 1.0]),
        ],
        floor: 1.0,
        fp16_near: 1.0 / 256.0,
    },
    Case {
        rewrite: &modulo::MOD_TO_FLOOR_DIV,
        kind: "mod",
        extra: none,
        inputs: &[
            ("x", -4.0, 4.0, &[0.0, 3.0, -3.0, 4.0, 0.5]),
            ("y", -4.0, -0.5, &[-0.5, -1.5, -4.0, -1.0]),
        ],
        floor: 1.0,
        fp16_near: 1.0 / 256.0,
    },
    Case {
        rewrite: &cumsum::CUMSUM_TO_MATMUL,
        kind: "cumsum",
        extra: cumsum_params,
        inputs: &[("x", -1.0, 1.0, &[0.0, 1.0, -1.0])],
        floor: 1.0,
        fp16_near: 0.0,
    },
    Case {
        rewrite: &band_part::BAND_PART_TO_MASK,
        kind: "band_part",
        extra: band_params,
        inputs: &[("x", -1.0, 1.0, &[0.0, 1.0, -1.0])],
        floor: 1e-6,
        fp16_near: 0.0,
    },
];

/// The program `y = kind(inputs...)` for inputs of `shape`.
fn program_text(case: &Case, dtype: DType, shape: &[usize], seed: u64) -> String {
    let ty = tensor_type(dtype, shape);
    let params: Vec<String> = case.inputs.iter().map(|(n, ..)| format!("{ty} {n}")).collect();
    let args: Vec<String> = case.inputs.iter().map(|(n, ..)| format!("{n} = {n}")).collect();
    format!(
        "program(1.3)\n{{\n    func main<ios18>({}) {{\n        {ty} out = {}({}{})[name = string(\"out\")];\n    }} -> (out);\n}}\n",
        params.join(", "),
        case.kind,
        args.join(", "),
        (case.extra)(shape, seed)
    )
}

/// Random inputs in the case's ranges, with its edge values first, in at most half the elements.
fn inputs(case: &Case, dtype: DType, shape: &[usize], seed: u64) -> Named {
    let mut rng = SplitMix::new(seed);
    let n: usize = shape.iter().product();
    case.inputs
        .iter()
        .map(|&(name, lo, hi, edges)| {
            let edges = &edges[..edges.len().min(n.div_ceil(2))];
            let values = random_values(&mut rng, n, lo, hi, edges);
            (name.to_string(), Tensor::from_f32(dtype, shape.to_vec(), values))
        })
        .collect()
}

/// Rewrites the case's op and checks the result as the module's documentation says.
fn prove(case: &Case, dtype: DType, shape: &[usize], seed: u64) {
    // band_part works on the last two axes: a rank-1 draw gets a leading axis.
    let leading = usize::from(case.kind == "band_part" && shape.len() == 1);
    let shape = &[&[2][..leading], shape].concat();
    let text = program_text(case, dtype, shape, seed);
    let (original, map) = parse(&text);
    assert!(
        findings(&original).contains(&"ANE001"),
        "the ANE should refuse `{}`\n{text}",
        case.kind
    );
    let (rewritten, map_after) = rewrite_first(case.rewrite, &original, &map, case.kind);
    let (printed, reparsed) = well_formed(&rewritten, &map_after);
    assert!(
        !findings(&reparsed).contains(&"ANE001"),
        "an op is still refused:\n{printed}"
    );

    for seed in input_seeds(seed) {
        let inputs = inputs(case, dtype, shape, seed);
        let agreement = compare(&original, &reparsed, &inputs, case.floor).unwrap();
        let near = compare(&original, &reparsed, &inputs, 1.0).unwrap();
        for (a, near) in agreement.iter().zip(&near) {
            assert!(
                agrees(dtype, a, near.max_rel_error, case.fp16_near),
                "{a:?} {near:?} {shape:?}\n{printed}"
            );
        }
    }
}

fn shapes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..7, 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fp32_rewrites_agree(case in 0..CASES.len(), shape in shapes(), seed in any::<u64>()) {
        prove(&CASES[case], DType::Fp32, &shape, seed);
    }

    #[test]
    fn fp16_rewrites_agree(case in 0..CASES.len(), shape in shapes(), seed in any::<u64>()) {
        prove(&CASES[case], DType::Fp16, &shape, seed);
    }
}

/// Every case on one shape and 24 seeds (for cumsum: every axis of the rank-3 shape, negative and
/// positive, with each of the four flag combinations), so that each rewrite is proven on every run
/// whatever the property tests draw.
#[test]
fn every_rewrite_agrees_on_a_fixed_shape() {
    for case in CASES {
        for dtype in [DType::Fp32, DType::Fp16] {
            for seed in 0..24 {
                prove(case, dtype, &[2, 3, 4], seed);
            }
        }
    }
}
