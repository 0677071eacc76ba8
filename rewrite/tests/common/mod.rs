//! What the tests share: reading a program and finding its op, writing programs' types, drawing
//! random inputs, applying a rewrite and checking that the result is well formed, and the bar an
//! output of a rewritten program must meet against the original's in the reference interpreter.

#![allow(
    dead_code,
    reason = "each test binary is compiled with this module and uses a part of it"
)]

use mil_eval::inputs::SplitMix;
use mil_eval::{Named, Tensor};
use mil_ir::{DType, Diagnostic, OpId, Program, Severity, SourceMap};
use mil_rewrite::proof::Agreement;
use mil_rewrite::{Rewrite, apply};

/// Parses `text`, requiring no error.
pub fn parse(text: &str) -> (Program, SourceMap) {
    let parsed = mil_grammar::parse(text);
    let errors: Vec<_> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    (parsed.program, parsed.source_map)
}

/// The first op of `kind` in `p`'s first function.
pub fn find(p: &Program, kind: &str) -> OpId {
    let f = &p.functions[0];
    f.walk_ops()
        .into_iter()
        .find(|&op| f.op(op).kind == kind)
        .expect("the op is in the program")
}

/// `tensor<fp32, [2, 3]>`.
pub fn tensor_type(dtype: DType, shape: &[impl ToString]) -> String {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("tensor<{}, [{}]>", dtype.name(), dims.join(", "))
}

/// The codes of the rules our planner finds in `p`'s first function (the default chip and
/// compute units).
pub fn findings(p: &Program) -> Vec<&'static str> {
    let placed = mil_ane::placement::place_function(
        &p.functions[0],
        mil_ane::Target::default(),
        mil_ane::placement::Source::Ours,
    );
    placed.findings.iter().map(|f| f.rule.code.id).collect()
}

/// `n` values: `edges` first, then uniform in [`lo`, `hi`) drawn from `rng`.
pub fn random_values(rng: &mut SplitMix, n: usize, lo: f32, hi: f32, edges: &[f32]) -> Vec<f32> {
    (0..n)
        .map(|i| {
            edges
                .get(i)
                .copied()
                .unwrap_or_else(|| lo + (hi - lo) * rng.unit())
        })
        .collect()
}

/// Inputs for every parameter of `p`'s first function (of known shape), in order, drawn by
/// [`random_values`] from one generator started at `seed`.
pub fn random_inputs(p: &Program, seed: u64, lo: f32, hi: f32, edges: &[f32]) -> Named {
    let mut rng = SplitMix::new(seed);
    let f = &p.functions[0];
    f.params
        .iter()
        .map(|&v| {
            let value = f.value(v);
            let dims: Vec<usize> = value
                .ty
                .shape()
                .unwrap()
                .iter()
                .map(|d| match d {
                    mil_ir::Dim::Known(n) => *n as usize,
                    mil_ir::Dim::Unknown => unreachable!("known shapes"),
                })
                .collect();
            let values = random_values(&mut rng, dims.iter().product(), lo, hi, edges);
            let dtype = value.ty.dtype().unwrap();
            (value.name.to_string(), Tensor::from_f32(dtype, dims, values))
        })
        .collect()
}

/// The seeds of the three input draws a proof runs from its own `seed`.
pub fn input_seeds(seed: u64) -> impl Iterator<Item = u64> {
    (0..3).map(move |k| seed.wrapping_mul(31).wrapping_add(k))
}

/// A copy of `original` with `rewrite` applied to its first `kind` op; panics with the program's
/// text when the rewrite is refused.
pub fn rewrite_first(
    rewrite: &Rewrite,
    original: &Program,
    map: &SourceMap,
    kind: &str,
) -> (Program, SourceMap) {
    let (mut rewritten, mut map_after) = (original.clone(), map.clone());
    apply(
        rewrite,
        &mut rewritten.functions[0],
        &mut map_after.functions[0],
        find(original, kind),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", mil_ir::printer::print_program(original)));
    (rewritten, map_after)
}

/// The errors the verifier and the type checker find in `p`.
pub fn errors(p: &Program, map: &SourceMap) -> Vec<Diagnostic> {
    mil_ir::verify::verify(p, map)
        .into_iter()
        .chain(mil_ir::typecheck::check(p, map))
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

/// Prints `p` and parses the text back, requiring it to print to the same text; returns the text
/// and the program parsed from it.
pub fn reprinted(p: &Program) -> (String, Program) {
    let printed = mil_ir::printer::print_program(p);
    let (reparsed, _) = parse(&printed);
    assert_eq!(mil_ir::printer::print_program(&reparsed), printed);
    (printed, reparsed)
}

/// Requires `p` to have no verifier or type-checker error and to print to text that parses back to
/// the same text; returns the text and the program parsed from it.
pub fn well_formed(p: &Program, map: &SourceMap) -> (String, Program) {
    let problems = errors(p, map);
    assert!(
        problems.is_empty(),
        "{problems:?}\n{}",
        mil_ir::printer::print_program(p)
    );
    reprinted(p)
}

/// Whether an output of a rewritten program meets the proof's bar against the original's: in fp16
/// a PSNR of at least 60 dB, or `fp16_error` (a relative error the test measures for a rounding it
/// documents) within `fp16_near`; in any other type a relative error within 1e-5.
pub fn agrees(dtype: DType, a: &Agreement, fp16_error: f64, fp16_near: f64) -> bool {
    match dtype {
        DType::Fp16 => a.psnr_db >= 60.0 || fp16_error <= fp16_near,
        _ => a.max_rel_error <= 1e-5,
    }
}
