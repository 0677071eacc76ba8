//! Every code of the compile stage has its section in docs/diagnostics.md.

#[test]
fn every_code_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/diagnostics.md");
    let doc = std::fs::read_to_string(path).expect("docs/diagnostics.md");
    for code in mil_proto::codes::ALL {
        let heading = format!("### {} — {} ({})", code.id, code.title, code.severity.name());
        assert!(doc.contains(&heading), "docs/diagnostics.md lacks `{heading}`");
        assert!(
            mil_ir::codes::ALL.iter().all(|c| c.id != code.id),
            "{} is taken by mil_ir",
            code.id
        );
    }
}
