//! What each rewrite refuses and why, that a refused rewrite changes nothing, and that the ANE
//! finding on each refused op names the id of the rewrite that replaces it.

mod common;

use common::find;
use mil_ane::placement::{Source, place_function};
use mil_ir::{Program, SourceMap};
use mil_rewrite::cumsum::CUMSUM_TO_MATMUL;
use mil_rewrite::modulo::MOD_TO_FLOOR_DIV;
use mil_rewrite::proof::compare;
use mil_rewrite::{ALL, NotApplicable, Refused, Rewrite, applicable, apply, by_id};

/// `func main(params) { body } -> (out)`, parsed.
fn program(body: &str, params: &str, out: &str) -> (Program, SourceMap) {
    let text =
        format!("program(1.3)\n{{\n    func main<ios18>({params}) {{\n{body}\n    }} -> ({out});\n}}\n");
    common::parse(&text)
}

fn why(rewrite: &Rewrite, p: &Program, kind: &str) -> String {
    match rewrite.check(&p.functions[0], find(p, kind)) {
        Err(NotApplicable(why)) => why,
        Ok(()) => panic!("`{kind}` should be refused"),
    }
}

#[test]
fn mod_with_a_broadcast_divisor_is_refused_and_left_alone() {
    let (mut p, mut map) = program(
        "        tensor<fp32, [4]> z = mod(x = x, y = fp32(3.0))[name = string(\"z\")];",
        "tensor<fp32, [4]> x",
        "z",
    );
    assert_eq!(
        why(&MOD_TO_FLOOR_DIV, &p, "mod"),
        "`y` is not a value of the program"
    );
    let before = mil_ir::printer::print_program(&p);
    let op = find(&p, "mod");
    let refused = apply(&MOD_TO_FLOOR_DIV, &mut p.functions[0], &mut map.functions[0], op);
    assert!(matches!(refused, Err(Refused::NotApplicable(_))));
    assert_eq!(mil_ir::printer::print_program(&p), before);
}

#[test]
fn integer_mod_and_unknown_cumsum_shapes_are_refused() {
    let (p, _) = program(
        "        tensor<int32, [4]> z = mod(x = x, y = x)[name = string(\"z\")];",
        "tensor<int32, [4]> x",
        "z",
    );
    assert_eq!(
        why(&MOD_TO_FLOOR_DIV, &p, "mod"),
        "`mod` computes in int32, not fp16 or fp32"
    );
    let (p, _) = program(
        "        tensor<fp32, [?, 4]> z = cumsum(x = x, axis = 1)[name = string(\"z\")];",
        "tensor<fp32, [?, 4]> x",
        "z",
    );
    assert_eq!(why(&CUMSUM_TO_MATMUL, &p, "cumsum"), "the shape is not known");
    let (p, _) = program(
        "        tensor<fp32, [2, 4]> z = cumsum(x = x, axis = 2)[name = string(\"z\")];",
        "tensor<fp32, [2, 4]> x",
        "z",
    );
    assert_eq!(
        why(&CUMSUM_TO_MATMUL, &p, "cumsum"),
        "axis 2 is out of range for rank 2"
    );
}

#[test]
fn cumsum_reads_its_parameters_from_const_ops_and_defaults() {
    let (p, mut map) = program(
        "        int32 axis = const()[name = string(\"axis\"), val = int32(-2)];\n        bool rev = const()[name = string(\"rev\"), val = bool(true)];\n        tensor<fp32, [3, 5, 2]> z = cumsum(x = x, axis = axis, reverse = rev)[name = string(\"z\")];",
        "tensor<fp32, [3, 5, 2]> x",
        "z",
    );
    let mut rewritten = p.clone();
    let op = find(&p, "cumsum");
    apply(
        &CUMSUM_TO_MATMUL,
        &mut rewritten.functions[0],
        &mut map.functions[0],
        op,
    )
    .unwrap();
    let values: Vec<f32> = (0..30).map(|i| (i as f32 * 0.37).sin()).collect();
    let inputs = vec![(
        "x".to_string(),
        mil_eval::Tensor::from_f32(mil_ir::DType::Fp32, vec![3, 5, 2], values),
    )];
    for a in compare(&p, &rewritten, &inputs, 1.0).unwrap() {
        assert!(a.max_rel_error <= 1e-5, "{a:?}");
    }
}

#[test]
fn every_rewrite_is_found_by_its_id_and_the_ane_finding_names_it() {
    for r in ALL {
        assert_eq!(by_id(r.id.0).map(|found| found.id), Some(r.id));
    }
    assert!(by_id("no-such-rewrite").is_none());
    for kind in [
        "tan",
        "sinh",
        "cosh",
        "asin",
        "acos",
        "atanh",
        "mod",
        "cumsum",
        "band_part",
    ] {
        let (args, extra) = if kind == "mod" {
            ("x = x, y = x", "")
        } else {
            ("x = x", if kind == "cumsum" { ", axis = 0" } else { "" })
        };
        let (p, _) = program(
            &format!("        tensor<fp16, [2, 4]> z = {kind}({args}{extra})[name = string(\"z\")];"),
            "tensor<fp16, [2, 4]> x",
            "z",
        );
        let op = find(&p, kind);
        let offered: Vec<_> = applicable(&p.functions[0], op).map(|r| r.id).collect();
        assert_eq!(offered.len(), 1, "{kind}: {offered:?}");
        let placed = place_function(&p.functions[0], mil_ane::Target::default(), Source::Ours);
        let finding = placed
            .findings
            .iter()
            .find(|f| f.rule.code.id == "ANE001")
            .expect("refused");
        let fix = finding.fix.and_then(|fix| fix.rewrite());
        assert_eq!(fix, Some(offered[0]), "{kind}: the finding names {fix:?}");
    }
}
