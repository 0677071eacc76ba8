//! The proof of `reduce-prod-to-mul`: for random shapes, reduced axes (some negative, or absent:
//! every axis) and `keep_dims` (true, false or absent), a one-op `reduce_prod` program and its
//! rewrite give the same output in the reference interpreter on random inputs, zeros and ±1
//! included: fp32 within a relative error of 1e-5 (floor 1e-6: a product's error is relative to
//! it), fp16 at a PSNR of at least 60 dB. The rewritten program passes the verifier and the type
//! checker, prints to text that parses back to the same text, and has no op left that the Neural
//! Engine refuses by kind (ANE001).
//!
//! The factors' magnitudes are drawn from [0.85, 1.15] so that the product of up to a few thousand
//! stays within fp16's range. In fp16 each of the tree's n − 1 products rounds to half an ulp
//! (2⁻¹¹ relative) where the interpreter rounds the op's fp32 product once; on outputs whose
//! errors all come from many factors the PSNR can fall below 60 dB, so the fp16 check is PSNR ≥
//! 60 dB or every element within n·2⁻¹¹ relative, the bound those roundings give.

mod common;

use common::{find, parse, well_formed};
use mil_eval::inputs::SplitMix;
use mil_eval::{Named, Tensor};
use mil_ir::{DType, Program};
use mil_rewrite::proof::compare;
use mil_rewrite::{apply, reduce_prod::REDUCE_PROD_TO_MUL};
use proptest::prelude::*;

/// One random `reduce_prod`.
#[derive(Clone, Debug)]
struct Case {
    shape: Vec<usize>,
    /// The `axes` written, or `None` for absent (every axis).
    axes: Option<Vec<i64>>,
    /// `keep_dims` written, or `None` for absent (false).
    keep_dims: Option<bool>,
}

impl Case {
    /// A case drawn from `seed`: rank 1–4, dims 1–7, one axis sometimes up to 40 long.
    fn random(seed: u64) -> Case {
        let mut rng = SplitMix::new(seed);
        let mut pick = |n: u64| (rng.next_u64() % n) as usize;
        let rank = 1 + pick(4);
        let mut shape: Vec<usize> = (0..rank).map(|_| 1 + pick(7)).collect();
        if pick(3) == 0 {
            let long = pick(rank as u64);
            shape[long] = 1 + pick(40);
        }
        let axes = match pick(4) {
            0 => None,
            _ => {
                let mut axes = Vec::new();
                for a in 0..rank {
                    if pick(2) == 0 {
                        axes.push(if pick(2) == 0 {
                            a as i64 - rank as i64
                        } else {
                            a as i64
                        });
                    }
                }
                if axes.is_empty() {
                    axes.push(pick(rank as u64) as i64);
                }
                Some(axes)
            }
        };
        let keep_dims = [None, Some(true), Some(false)][pick(3)];
        Case {
            shape,
            axes,
            keep_dims,
        }
    }

    /// The reduced axes, each once, as non-negative numbers.
    fn reduced(&self) -> Vec<usize> {
        let rank = self.shape.len() as i64;
        match &self.axes {
            None => (0..self.shape.len()).collect(),
            Some(axes) => {
                let mut r: Vec<usize> = axes.iter().map(|a| a.rem_euclid(rank) as usize).collect();
                r.sort_unstable();
                r.dedup();
                r
            }
        }
    }

    /// How many factors each output multiplies.
    fn factors(&self) -> usize {
        self.reduced().iter().map(|&a| self.shape[a]).product()
    }

    /// The result's shape; a scalar result is not a case (the rewrite refuses it).
    fn result(&self) -> Vec<usize> {
        let reduced = self.reduced();
        let keep = self.keep_dims == Some(true);
        let dims = self.shape.iter().enumerate();
        dims.filter_map(|(a, &d)| match reduced.contains(&a) {
            true if keep => Some(1),
            true => None,
            false => Some(d),
        })
        .collect()
    }

    fn text(&self, dtype: DType) -> String {
        let ty = |shape: &[usize]| {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("tensor<{}, [{}]>", dtype.name(), dims.join(", "))
        };
        let mut args = String::new();
        if let Some(axes) = &self.axes {
            let list: Vec<String> = axes.iter().map(i64::to_string).collect();
            args += &format!(", axes = [{}]", list.join(", "));
        }
        if let Some(k) = self.keep_dims {
            args += &format!(", keep_dims = {k}");
        }
        format!(
            "program(1.3)\n{{\n    func main<ios18>({} x) {{\n        {} out = reduce_prod(x = x{args})[name = string(\"out\")];\n    }} -> (out);\n}}\n",
            ty(&self.shape),
            ty(&self.result()),
        )
    }
}

/// Factors of magnitude 0.85–1.15 and random sign, with 0, 1, −1 and −0 first in at most half the
/// elements.
fn inputs(dtype: DType, shape: &[usize], seed: u64) -> Named {
    let mut rng = SplitMix::new(seed);
    let n: usize = shape.iter().product();
    let edges = [0.0, 1.0, -1.0, -0.0];
    let values = (0..n)
        .map(|i| match edges.get(i).filter(|_| i < n / 2) {
            Some(&e) => e,
            None => {
                let sign = if rng.next_u64().is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                };
                sign * (0.85 + 0.3 * rng.unit())
            }
        })
        .collect();
    vec![("x".to_string(), Tensor::from_f32(dtype, shape.to_vec(), values))]
}

/// Whether the planner finds an op the Neural Engine refuses by kind (ANE001).
fn has_refused_op(p: &Program) -> bool {
    let placed = mil_ane::placement::place_function(
        &p.functions[0],
        mil_ane::Target::default(),
        mil_ane::placement::Source::Ours,
    );
    placed.findings.iter().any(|f| f.rule.code.id == "ANE001")
}

/// Rewrites the case's op and checks the result as the module's documentation says.
fn prove(case: &Case, dtype: DType, seed: u64) {
    let text = case.text(dtype);
    let (original, map) = parse(&text);
    assert!(
        has_refused_op(&original),
        "the ANE should refuse reduce_prod\n{text}"
    );
    let op = find(&original, "reduce_prod");
    if case.result().is_empty() {
        let refused = REDUCE_PROD_TO_MUL.check(&original.functions[0], op).unwrap_err();
        assert_eq!(refused.0, "the result is a scalar");
        return;
    }
    let (mut rewritten, mut map_after) = (original.clone(), map.clone());
    apply(
        &REDUCE_PROD_TO_MUL,
        &mut rewritten.functions[0],
        &mut map_after.functions[0],
        op,
    )
    .unwrap();

    let (printed, reparsed) = well_formed(&rewritten, &map_after);
    assert!(!has_refused_op(&reparsed), "an op is still refused:\n{printed}");

    let bound = case.factors() as f64 * 2f64.powi(-11);
    for k in 0..3 {
        let inputs = inputs(dtype, &case.shape, seed.wrapping_mul(31).wrapping_add(k));
        let agreement = compare(&original, &reparsed, &inputs, 1e-6).unwrap();
        for a in &agreement {
            match dtype {
                DType::Fp16 => assert!(
                    a.psnr_db >= 60.0 || a.max_rel_error <= bound,
                    "{a:?} {case:?}\n{printed}"
                ),
                _ => assert!(a.max_rel_error <= 1e-5, "{a:?} {case:?}\n{printed}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn fp32_products_agree(seed in any::<u64>()) {
        prove(&Case::random(seed), DType::Fp32, seed);
    }

    #[test]
    fn fp16_products_agree(seed in any::<u64>()) {
        prove(&Case::random(seed), DType::Fp16, seed);
    }
}

/// Fixed cases: odd and even lengths (1, 2, 3, 5, 8, 64 — the corpus model's 64 channels), the
/// first, last and middle axis, several axes, every axis, each `keep_dims`.
#[test]
fn fixed_products_agree() {
    let cases = [
        (vec![1, 64, 4, 4], Some(vec![1]), Some(true)),
        (vec![3, 5, 2], Some(vec![-2]), None),
        (vec![8, 3], Some(vec![0]), Some(false)),
        (vec![2, 3, 5], Some(vec![0, 2]), Some(true)),
        (vec![2, 1, 3], Some(vec![1]), Some(true)),
        (vec![2, 1, 3], Some(vec![1]), Some(false)),
        (vec![2, 3, 4], None, Some(true)),
        (vec![7], Some(vec![0]), Some(true)),
    ];
    for (shape, axes, keep_dims) in cases {
        let case = Case {
            shape,
            axes,
            keep_dims,
        };
        for dtype in [DType::Fp32, DType::Fp16] {
            for seed in 0..8 {
                prove(&case, dtype, seed);
            }
        }
    }
}

/// The Neural Engine's finding on `reduce_prod` names this rewrite, the only one that takes it.
#[test]
fn the_ane_finding_names_the_rewrite() {
    let case = Case {
        shape: vec![2, 4],
        axes: Some(vec![1]),
        keep_dims: Some(true),
    };
    let (p, _) = parse(&case.text(DType::Fp16));
    let f = &p.functions[0];
    let offered: Vec<_> = mil_rewrite::applicable(f, find(&p, "reduce_prod"))
        .map(|r| r.id)
        .collect();
    assert_eq!(offered, [REDUCE_PROD_TO_MUL.id]);
    let placed =
        mil_ane::placement::place_function(f, mil_ane::Target::default(), mil_ane::placement::Source::Ours);
    let finding = placed
        .findings
        .iter()
        .find(|f| f.rule.code.id == "ANE001")
        .unwrap();
    assert_eq!(
        finding.fix.and_then(|fix| fix.rewrite()),
        Some(REDUCE_PROD_TO_MUL.id)
    );
}

/// Between two 3×3 convs on 1×64×64×64 fp16 (M4, `cpu_and_ne`) the rewrite moves the product onto
/// the Neural Engine with the convs and is offered; in the corpus's model (1×64×32×32, convs that
/// the planner, like Core ML, keeps on the CPU) it is not.
#[test]
fn offered_between_convs_on_the_ane() {
    let t = |c: u32| format!("tensor<fp16, [1, {c}, 64, 64]>");
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>({x} x, tensor<fp16, [64, 64, 3, 3]> w, tensor<fp16, [64, 1, 3, 3]> v) {{\n        {x} a = conv(x = x, weight = w, strides = [1, 1], pad_type = \"same\", dilations = [1, 1], groups = 1)[name = string(\"a\")];\n        {x} r = relu(x = a)[name = string(\"r\")];\n        {p} p = reduce_prod(x = r, axes = [1], keep_dims = true)[name = string(\"p\")];\n        {x} out = conv(x = p, weight = v, strides = [1, 1], pad_type = \"same\", dilations = [1, 1], groups = 1)[name = string(\"out\")];\n    }} -> (out);\n}}\n",
        x = t(64),
        p = t(1),
    );
    let (p, map) = parse(&text);
    let op = find(&p, "reduce_prod");
    let a = mil_rewrite::helps::assess(
        &p,
        &map.functions[0],
        0,
        op,
        &REDUCE_PROD_TO_MUL,
        mil_ane::Target::default(),
    )
    .unwrap();
    expect_test::expect!["Rewrite reduce_prod as a tree of products of slices — CPU → ANE, est. 0.462 → 0.356 ms (offered: true)"]
        .assert_eq(&format!("{} (offered: {})", a.title, a.helps()));
}
