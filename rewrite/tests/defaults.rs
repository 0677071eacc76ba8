//! The proof of `spell-out-defaults`: with the default written out, `rsqrt`, `log`, `inverse`
//! and `concat` give the same outputs in the reference interpreter (edge values 0 and the
//! smallest normals included), the program passes the verifier and the type checker, and our
//! rules no longer find a default left implicit (ANE115). Before iOS17 an fp16 op is refused.

mod common;

use common::{find, findings, parse, random_inputs, rewrite_first, well_formed};
use mil_eval::Named;
use mil_ir::{DType, Program};
use mil_rewrite::proof::compare;
use mil_rewrite::spell_out_defaults::SPELL_OUT_DEFAULTS;
use mil_rewrite::{Refused, apply};

/// Whether our rules find a default left implicit (ANE115).
fn implicit_default(p: &Program) -> bool {
    findings(p).contains(&"ANE115")
}

/// `out = kind(x)` (for concat, of `x` and `y` along the last axis) in `opset`.
fn program(kind: &str, dtype: DType, opset: &str) -> String {
    let t = format!("tensor<{}, [2, 3]>", dtype.name());
    let (params, out_ty, call) = if kind == "concat" {
        (
            format!("{t} x, {t} y"),
            format!("tensor<{}, [2, 6]>", dtype.name()),
            "concat(axis = -1, values = (x, y))".to_string(),
        )
    } else {
        (format!("{t} x"), t.clone(), format!("{kind}(x = x)"))
    };
    format!(
        "program(1.3)\n{{\n    func main<{opset}>({params}) {{\n        {out_ty} out = {call}[name = string(\"out\")];\n    }} -> (out);\n}}\n"
    )
}

/// Inputs in (0, 4) with 0 and tiny values first.
fn inputs(p: &Program, seed: u64) -> Named {
    random_inputs(p, seed, 0.0, 4.0, &[0.0, 1e-30, 6.2e-5, 1.0])
}

#[test]
fn spelled_out_defaults_change_no_output() {
    for kind in ["rsqrt", "log", "inverse", "concat"] {
        for dtype in [DType::Fp32, DType::Fp16] {
            let (original, map) = parse(&program(kind, dtype, "ios18"));
            assert!(implicit_default(&original), "{kind}");
            let (rewritten, map_after) = rewrite_first(&SPELL_OUT_DEFAULTS, &original, &map, kind);
            let (printed, reparsed) = well_formed(&rewritten, &map_after);
            assert!(!implicit_default(&reparsed), "{printed}");
            for seed in 0..3 {
                let inputs = inputs(&original, seed);
                for a in compare(&original, &reparsed, &inputs, 1e-6).unwrap() {
                    assert_eq!(a.max_rel_error, 0.0, "{kind} {dtype:?}: {a:?}\n{printed}");
                }
            }
        }
    }
}

#[test]
fn an_fp16_epsilon_before_ios17_is_left_alone() {
    let (p, mut map) = parse(&program("log", DType::Fp16, "ios16"));
    let mut q = p.clone();
    let op = find(&p, "log");
    let refused = apply(
        &SPELL_OUT_DEFAULTS,
        &mut q.functions[0],
        &mut map.functions[0],
        op,
    );
    let Err(Refused::NotApplicable(why)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        why.0,
        "before iOS17 `epsilon` has `x`'s type, and 1e-45 rounds to 0 in fp16"
    );
    let (p32, _) = parse(&program("log", DType::Fp32, "ios16"));
    assert!(
        SPELL_OUT_DEFAULTS
            .check(&p32.functions[0], find(&p32, "log"))
            .is_ok()
    );
}
