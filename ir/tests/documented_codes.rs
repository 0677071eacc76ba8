//! Every diagnostic code has its section in docs/diagnostics.md, with its title and severity.

use mil_ir::codes;

#[test]
fn every_code_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/diagnostics.md");
    let doc = std::fs::read_to_string(path).expect("docs/diagnostics.md");
    for code in codes::ALL {
        let heading = format!("### {} — {} ({})", code.id, code.title, code.severity.name());
        assert!(doc.contains(&heading), "docs/diagnostics.md lacks `{heading}`");
    }
    let mut ids: Vec<_> = codes::ALL.iter().map(|c| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), codes::ALL.len(), "duplicate code ids");
}
