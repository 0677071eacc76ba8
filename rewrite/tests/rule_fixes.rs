//! The ANE rules and the rewrites name the same rewrites: every rewrite a rule (or, for ANE001,
//! a refused op kind) names is one of `mil_rewrite::ALL`, and `RewriteId::ALL`, the ids the rules
//! can name, are exactly the ids of `mil_rewrite::ALL`, in its order, then the rewrite of a
//! function's interface (`io-to-fp16`).

use mil_ane::rule::Fix;
use mil_ir::RewriteId;

/// Every fix the rules can put on a finding.
fn named_fixes() -> Vec<(String, Fix)> {
    let rules = mil_ane::rules::ALL
        .iter()
        .filter_map(|r| Some((r.code.id.to_string(), r.fix?)));
    let kinds =
        mil_ane::rules::refused_kinds().filter_map(|(kind, fix)| Some((format!("ANE001 {kind}"), fix?)));
    rules.chain(kinds).collect()
}

#[test]
fn every_rewrite_a_rule_names_exists() {
    for (who, fix) in named_fixes() {
        if let Some(id) = fix.rewrite() {
            assert!(
                mil_rewrite::by_id(id.name()).is_some_and(|r| r.id == id) || id == mil_rewrite::io_fp16::ID,
                "{who} names `{id}`, which has no rewrite"
            );
        }
    }
}

#[test]
fn the_rule_ids_are_the_rewrites_ids() {
    let mut rewrites: Vec<RewriteId> = mil_rewrite::ALL.iter().map(|r| r.id).collect();
    rewrites.push(mil_rewrite::io_fp16::ID);
    assert_eq!(rewrites, RewriteId::ALL);
    for id in RewriteId::ALL {
        assert_eq!(RewriteId::parse(id.name()), Some(*id));
    }
}

#[test]
fn every_rewrite_is_named_by_a_rule() {
    let named: Vec<RewriteId> = named_fixes().iter().filter_map(|(_, f)| f.rewrite()).collect();
    for id in mil_rewrite::ALL
        .iter()
        .map(|r| r.id)
        .chain([mil_rewrite::io_fp16::ID])
    {
        assert!(named.contains(&id), "no rule names `{id}`");
    }
}
