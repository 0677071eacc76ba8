//! Prints, for every op of some MIL files, the types inference gives its results, one JSON object
//! per line: `{"file": F, "line": N, "op": "conv", "types": ["tensor<fp16, [1, 2]>"]}`, or
//! `"problem"` instead of `"types"`. The oracle tests compare these with coremltools' types.
//!
//! `cargo run -p mil-ir --example infer_types -- FILE.mil...`

use mil_ir::infer::{Problem, infer_function};

fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("readable file");
        print_types(&path, &text);
    }
}

/// Prints the inferred types of every op of `text`, read from `path`.
fn print_types(path: &str, text: &str) {
    let parsed = mil_grammar::parse(text);
    for (f, spans) in parsed.program.functions.iter().zip(&parsed.source_map.functions) {
        let types = infer_function(f);
        for id in f.walk_ops() {
            let start = spans.ops.get(id.index()).map_or(0, |s| s.whole.start as usize);
            let line = text[..start].matches('\n').count() + 1;
            let op = &f.op(id).kind;
            let body = match types.outputs(id) {
                None => "\"problem\": \"not in the catalogue\"".to_string(),
                Some(Ok(types)) => {
                    let quoted: Vec<String> = types.iter().map(|t| format!("\"{t}\"")).collect();
                    format!("\"types\": [{}]", quoted.join(", "))
                }
                Some(Err(Problem::Unknown)) => "\"problem\": \"unknown\"".to_string(),
                Some(Err(Problem::Invalid { message, .. } | Problem::Incompatible { message, .. })) => {
                    format!("\"problem\": {message:?}")
                }
            };
            println!("{{\"file\": {path:?}, \"line\": {line}, \"op\": \"{op}\", {body}}}");
        }
    }
}
