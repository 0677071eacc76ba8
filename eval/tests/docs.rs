//! docs/eval.md lists exactly the ops the interpreter runs and the catalogue ops it does not.

use mil_ir::catalogue;

/// The text between `<!-- NAME -->` and `<!-- /NAME -->` in docs/eval.md.
fn section(doc: &str, name: &str) -> String {
    let start = doc.find(&format!("<!-- {name} -->")).expect("start marker") + name.len() + 9;
    let end = doc.find(&format!("<!-- /{name} -->")).expect("end marker");
    doc[start..end].trim().to_string()
}

fn listing(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn the_doc_lists_supported_and_missing_ops() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/eval.md")).unwrap();
    let supported = mil_eval::kernels::supported();
    let missing: Vec<&str> = catalogue::ops()
        .iter()
        .map(|op| op.name)
        .filter(|n| !supported.contains(n))
        .collect();
    let extra: Vec<&str> = supported
        .iter()
        .copied()
        .filter(|n| catalogue::op(n).is_none())
        .collect();
    assert!(
        extra.is_empty(),
        "kernels for ops the catalogue does not have: {extra:?}"
    );
    let (want_supported, want_missing) = (listing(&supported), listing(&missing));
    assert_eq!(
        section(&doc, "supported-ops"),
        want_supported,
        "supported ({}):\n{want_supported}",
        supported.len()
    );
    assert_eq!(
        section(&doc, "missing-ops"),
        want_missing,
        "missing ({}):\n{want_missing}",
        missing.len()
    );
}
