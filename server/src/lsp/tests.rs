//! Unit tests of the features on models built in memory (the end-to-end tests over stdio are in
//! tests/lsp).

use crate::lsp::config::Config;
use crate::lsp::model::Model;
use crate::lsp::position::Encoding;
use crate::lsp::server::{ClientCaps, Ctx};
use crate::lsp::{context, signature_help};
use ropey::Rope;
use tower_lsp_server::ls_types::Uri;

pub(crate) const TEXT: &str = "program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
            tensor<fp16, [1, 4]> a = relu(x = x)[name = string(\"a\")];
            tensor<fp16, [1, 4]> b = mul(x = a, y = x)[name = string(\"b\")];
            tensor<fp16, [1, 4]> c = add(x = b, y = a)[name = string(\"c\")];
        } -> (c);
}
";

pub(crate) fn model(text: &str) -> Model {
    Model::build(1, Rope::from_str(text), None)
}

pub(crate) fn with_ctx<T>(f: impl FnOnce(&Ctx) -> T) -> T {
    let uri: Uri = "file:///tmp/doc.mil".parse().unwrap();
    let config = Config::default();
    let caps = ClientCaps {
        snippets: true,
        markdown: true,
    };
    f(&Ctx {
        uri: &uri,
        enc: Encoding::Utf16,
        config: &config,
        caps: &caps,
    })
}

#[test]
fn signature_help_marks_the_argument_under_the_cursor() {
    let m = model(TEXT);
    let at = TEXT.find("y = x").unwrap() as u32 + 1;
    let prefix = context::statement_prefix(&m, at);
    assert!(prefix.ends_with("mul(x = a, y"), "{prefix:?}");
    let help = with_ctx(|cx| signature_help::signature_help(&m, cx, at)).unwrap();
    assert_eq!(help.active_parameter, Some(1));
}

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Replays random edits inside statements through [`Model::patch`] (rebuilding when it declines,
/// as the worker does) and checks after every edit that the model is exactly what analysing the
/// new text from scratch gives: program, source map and diagnostics.
fn check_patches_against_full_analysis(original: &str, edits: usize, seed: u64) -> usize {
    use crate::lsp::documents::Edit;
    let mut rng = Rng(seed);
    let mut m = model(original);
    let mut patched = 0;
    let mut undo: Option<(usize, usize, String)> = None;
    for step in 0..edits {
        // Now and then the client sends the original text again (as after a reload).
        if step % 25 == 24 {
            m = Model::build(step as i32 + 2, Rope::from_str(original), None);
            undo = None;
            continue;
        }
        let ops: Vec<mil_ir::Span> = m
            .map
            .functions
            .iter()
            .flat_map(|f| f.ops.iter().map(|o| o.whole))
            .collect();
        let text = m.rope.to_string();
        let (start, end, insert) = match ops.get(rng.below(ops.len())) {
            // Half the time, take the last edit back, as typing and deleting do.
            _ if undo.is_some() && rng.below(2) == 0 => undo.take().unwrap(),
            Some(w) if rng.below(50) > 0 => {
                let at = w.start as usize + rng.below((w.end - w.start) as usize + 1);
                let pieces = [
                    "1", "7", "x", "a", "_", " ", ",", "=", "(", ")", "\"", "[", "]", "0.5", "fp32", "y = x",
                ];
                match rng.below(3) {
                    0 => (at, at, pieces[rng.below(pieces.len())].to_string()),
                    1 => (at, (at + 1).min(w.end as usize), String::new()),
                    _ if text.as_bytes()[at.min(text.len() - 1)].is_ascii_digit() => {
                        (at, at + 1, rng.below(10).to_string())
                    }
                    _ => (at, at, "2".to_string()),
                }
            }
            _ => {
                let at = rng.below(text.len());
                (at, at, ";".to_string())
            }
        };
        let (start, end) = (floor(&text, start), floor(&text, end.max(start)));
        let new_text = format!("{}{insert}{}", &text[..start], &text[end..]);
        undo = Some((start, start + insert.len(), text[start..end].to_string()));
        let edit = Edit::Replace {
            span: mil_ir::Span::new(start, end),
            text: insert.clone(),
        };
        let rope = Rope::from_str(&new_text);
        let version = step as i32 + 2;
        if m.patch(std::slice::from_ref(&edit), version, &rope) {
            patched += 1;
        } else {
            m = Model::build(version, rope, None);
        }
        let fresh = model(&new_text);
        assert_eq!(m.rope.to_string(), new_text, "step {step}");
        assert_eq!(m.diagnostics, fresh.diagnostics, "step {step}: {edit:?}");
        assert_eq!(
            m.program_diagnostics, fresh.program_diagnostics,
            "step {step}: {edit:?}"
        );
        // Span moves may stay owed while typing goes on (as the worker lets them); once paid,
        // the source map is the fresh one.
        if rng.below(3) > 0 {
            m.finish();
            assert_eq!(m.map, fresh.map, "step {step}: {edit:?}");
            assert!(m.program == fresh.program, "step {step}: {edit:?}");
        }
    }
    patched
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[test]
fn patched_models_equal_full_analyses() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut total = 0;
    for (i, name) in [
        "samples/hand_written.mil",
        "samples/attention.mil",
        "samples/ane_mlp.mil",
    ]
    .iter()
    .enumerate()
    {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        total += check_patches_against_full_analysis(&text, 400, 0x9e37_79b9 + i as u64);
    }
    // Most edits stay inside one statement and are patched, not rebuilt.
    assert!(total > 400, "only {total} of 1200 edits were patched");
}

#[test]
fn an_edit_inside_a_statement_is_patched() {
    use crate::lsp::documents::Edit;
    let mut m = model(TEXT);
    let at = TEXT.find("string(\"b\")").unwrap() + 8;
    let edit = Edit::Replace {
        span: mil_ir::Span::new(at, at),
        text: "x".into(),
    };
    let new_text = format!("{}x{}", &TEXT[..at], &TEXT[at..]);
    assert!(m.patch(&[edit], 2, &Rope::from_str(&new_text)));
    m.finish();
    assert_eq!(m.program.functions[0].ops[1].name(), Some("xb"));
}

/// A program whose statements are indented with four spaces and with a tab, each in a lenient form.
const INDENTED: &str = "program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
    tensor<fp16, [1, 4]> a = relu(x)[name = string(\"a\")];
\ttensor<fp16, [1, 4]> b = mul(x = a, y = x);
    } -> (b);
}
";

/// The text after applying the quick fix offered for the diagnostic of `code`.
fn quick_fixed(text: &str, code: mil_ir::Code) -> String {
    use crate::lsp::code_actions;
    use tower_lsp_server::ls_types::CodeActionOrCommand;
    let m = model(text);
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == code)
        .expect("the lenient form");
    let actions = with_ctx(|cx| code_actions::code_actions(&m, cx, d.span, None));
    let fix = actions
        .iter()
        .find_map(|a| match a {
            CodeActionOrCommand::CodeAction(a) if a.title.contains(code.id) => Some(a),
            _ => None,
        })
        .expect("a quick fix");
    let edits = &fix
        .edit
        .as_ref()
        .unwrap()
        .changes
        .as_ref()
        .unwrap()
        .values()
        .next()
        .unwrap();
    let [edit] = edits.as_slice() else {
        panic!("one edit: {edits:?}")
    };
    let span = crate::lsp::position::span(&m.rope, edit.range, Encoding::Utf16);
    format!(
        "{}{}{}",
        &text[..span.start as usize],
        edit.new_text,
        &text[span.end as usize..]
    )
}

#[test]
fn quick_fixes_keep_the_line_indentation() {
    let fixed = quick_fixed(INDENTED, mil_ir::codes::POSITIONAL_ARGUMENT);
    assert!(
        fixed.contains("\n    tensor<fp16, [1, 4]> a = relu(x = x)[name = string(\"a\")];\n\ttensor"),
        "{fixed}"
    );
    let fixed = quick_fixed(INDENTED, mil_ir::codes::MISSING_NAME);
    assert!(
        fixed.contains("\n\ttensor<fp16, [1, 4]> b = mul(x = a, y = x)[name = string(\"b\")];\n    }"),
        "{fixed}"
    );
    // Both fixed statements read cleanly: the fix changed them and nothing else.
    let both = quick_fixed(&fixed, mil_ir::codes::POSITIONAL_ARGUMENT);
    let m = model(&both);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
}

#[test]
fn range_formatting_reindents_to_the_canonical_column() {
    use crate::lsp::formatting;
    let m = model(INDENTED);
    let edits =
        with_ctx(|cx| formatting::format(&m, cx, Some(mil_ir::Span::new(0, INDENTED.len())))).unwrap();
    assert_eq!(edits.len(), 2);
    assert!(
        edits.iter().all(|e| e.new_text.starts_with(&" ".repeat(12))),
        "{edits:?}"
    );
}
