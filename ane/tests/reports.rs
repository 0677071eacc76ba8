//! The JSON and HTML reports of `mil placement`, on a Core ML analytics file.

use mil_ane::placement::{self, Source};
use mil_ane::{Chip, ComputeUnits, Target};
use std::path::PathBuf;

const STUDY: Target = Target {
    chip: Chip::M4,
    compute_units: ComputeUnits::CpuAndNeuralEngine,
};

fn mod_model() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/analytics/mod.mil");
    std::fs::read_to_string(path).expect("analytics/mod.mil")
}

#[test]
fn json_has_the_fields_of_the_issue_and_core_mls_verdicts() {
    let text = mod_model();
    let program = mil_grammar::parse(&text).program;
    let placed = placement::place(&program, STUDY, Source::Ours);
    let doc: serde_json::Value =
        serde_json::from_str(&mil_ane::json::render("mod.mil", STUDY, &placed)).unwrap();
    let f = &doc["functions"][0];
    let ops = f["ops"].as_array().unwrap();
    for o in ops {
        for key in ["var", "op", "device", "ane_eligible", "reason", "estimated_ms"] {
            assert!(!o[key].is_null(), "{key} missing in {o}");
        }
        assert!(["ane", "gpu", "cpu"].contains(&o["device"].as_str().unwrap()));
    }
    let m = ops.iter().find(|o| o["op"] == "mod").unwrap();
    assert_eq!(m["device"], "cpu");
    assert_eq!(m["ane_eligible"], false);
    assert_eq!(m["rule"], "ANE001");
    assert_eq!(
        m["coreml"]["ane_supported"], false,
        "Core ML's verdict is read from the attributes"
    );
    assert_eq!(m["coreml"]["message"], "Unsupported MIL operation \"mod\".");
    // Core ML keeps the convs after `mod` on the CPU: so do we, and say why.
    let tail = ops.iter().find(|o| o["var"] == "wrap_out_0_conv").unwrap();
    assert_eq!(
        (tail["device"].as_str(), tail["coreml"]["device"].as_str()),
        (Some("cpu"), Some("cpu"))
    );
    assert!(tail["reason"].as_str().unwrap().starts_with("moved to cpu"));
    let totals = &f["totals"];
    assert_eq!(totals["segments"], 2);
    let share = totals["ane_op_share"].as_f64().unwrap();
    assert!(share > 0.5 && share < 1.0);
    assert!(
        totals["estimated_latency_ms"].as_f64().unwrap() > 0.25,
        "two segments pay the charges"
    );
}

#[test]
fn html_is_one_self_contained_page_with_a_picture_by_device() {
    let text = mod_model();
    let program = mil_grammar::parse(&text).program;
    let placed = placement::place(&program, STUDY, Source::Ours);
    let page = mil_ane::html::page("mod.mil", STUDY, &placed);
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(!page.contains("http") && !page.contains("<script") && !page.contains("<link"));
    let planned = placed[0].planned().count();
    let cells = page.matches("<rect").count();
    assert_eq!(
        cells,
        planned + placed[0].segments.len(),
        "one cell per op and one bar per segment"
    );
    assert!(
        page.contains("#2e9d5b") && page.contains("#d9822b"),
        "ANE and CPU colours"
    );
    assert!(
        page.contains("Unsupported MIL operation"),
        "the reasons are on the page"
    );
}
