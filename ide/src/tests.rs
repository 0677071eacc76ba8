//! What the features' tests share (a program, building its model, showing spans, applying
//! edits), and the tests of incremental analysis against full analysis.

use crate::model::Model;
use ropey::Rope;

mod edit_scripts;

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
    Model::build(1, text, Rope::from_str(text), None, Default::default())
}

/// Each span as `line:column "text"` (0-based, columns in bytes), one a line.
pub(crate) fn excerpts(text: &str, spans: &[mil_ir::Span]) -> String {
    spans
        .iter()
        .map(|s| {
            let before = &text[..s.start as usize];
            let line = before.matches('\n').count();
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
            format!("{line}:{column} {:?}\n", &text[s.range()])
        })
        .collect()
}

pub(crate) use crate::text_edit::apply;

#[test]
fn hover_on_a_derived_default_says_what_it_means() {
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4, 8, 8]> x, tensor<fp16, [4, 4, 1, 1]> w) {\n            tensor<fp16, [1, 4, 8, 8]> y = conv(strides = tensor<int32, [2]>([1, 1]), weight = w, x = x)[name = string(\"y\")];\n        } -> (y);\n}\n";
    let m = model(text);
    let at = text.find("strides").unwrap() as u32 + 1;
    let shown = crate::hover::hover(&m, &Default::default(), at).unwrap().markdown;
    assert!(
        shown.contains("strides?: const int32 (default: computed from the other inputs)"),
        "{shown}"
    );
    assert!(!shown.contains("= ("), "{shown}");
    // The note below says what that default is.
    assert!(shown.contains("(1 for each when absent)"), "{shown}");
}

#[test]
fn the_size_lens_counts_in_the_singular_and_the_plural() {
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n            tensor<fp16, [1, 4]> c = const()[name = string(\"c\"), val = tensor<fp16, [1, 4]>([1, 2, 3, 4])];\n            tensor<fp16, [1, 4]> y = add(x = x, y = c)[name = string(\"y\")];\n        } -> (y);\n}\n";
    let lenses = crate::code_lens::code_lenses(&model(text), &Default::default());
    let titles: Vec<String> = lenses.into_iter().map(|l| l.title).collect();
    assert!(
        titles.contains(&"2 operations (1 constant) · ios18".to_string()),
        "{titles:?}"
    );
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
    use crate::documents::Edit;
    let mut rng = Rng(seed);
    let mut m = model(original);
    let mut patched = 0;
    let mut undo: Option<(usize, usize, String)> = None;
    for step in 0..edits {
        // Now and then the client sends the original text again (as after a reload).
        if step % 25 == 24 {
            m = Model::build(
                step as i32 + 2,
                original,
                Rope::from_str(original),
                None,
                Default::default(),
            );
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
            m = Model::build(version, &new_text, rope, None, Default::default());
        }
        let fresh = model(&new_text);
        assert_eq!(m.rope.to_string(), new_text, "step {step}");
        assert_eq!(m.diagnostics, fresh.diagnostics, "step {step}: {edit:?}");
        if m.unsettled.ane {
            // Statements were read anew: the ANE analysis waits for the model to settle.
            m.settle();
        }
        assert_eq!(
            m.program_diagnostics, fresh.program_diagnostics,
            "step {step}: {edit:?}"
        );
        // Span moves may stay owed while typing goes on (as the worker lets them); once paid,
        // the source map is the fresh one (exactly so after edits inside statements; as far as
        // it can be observed after statements were read anew, whose ops are appended).
        if rng.below(3) > 0 {
            m.finish();
            assert_eq!(
                edit_scripts::observable(&m.program, &m.map),
                edit_scripts::observable(&fresh.program, &fresh.map),
                "step {step}: {edit:?}"
            );
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
    use crate::documents::Edit;
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
    use crate::code_actions;
    let m = model(text);
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.code == code)
        .expect("the lenient form");
    let actions = code_actions::code_actions(&m, d.span, |_| true);
    let fix = actions
        .iter()
        .find(|a| a.title.contains(code.id))
        .expect("a quick fix");
    let [_] = fix.edits.as_slice() else {
        panic!("one edit: {:?}", fix.edits)
    };
    apply(text, &fix.edits)
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
    use crate::formatting;
    let m = model(INDENTED);
    let edits = formatting::format(&m, Some(mil_ir::Span::new(0, INDENTED.len()))).unwrap();
    assert_eq!(edits.len(), 2);
    assert!(
        edits.iter().all(|e| e.text.starts_with(&" ".repeat(12))),
        "{edits:?}"
    );
}

/// A chain of convolutions whose parameters are constants, ending in a shape computation, like
/// the benchmark's programs (with integer values an edit can change what is known of).
fn conv_chain(layers: usize) -> String {
    let mut text = String::from("program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4, 8, 8]> x) {\n");
    let mut prev = "x".to_string();
    for i in 0..layers {
        text.push_str(&format!(
            "            tensor<fp16, [4, 4, 3, 3]> w{i} = const()[name = string(\"w{i}\"), val = tensor<fp16, [4, 4, 3, 3]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({})))];
            tensor<int32, [2]> s{i} = const()[name = string(\"s{i}\"), val = tensor<int32, [2]>([1, 1])];
            tensor<int32, [4]> p{i} = const()[name = string(\"p{i}\"), val = tensor<int32, [4]>([1, 1, 1, 1])];
            string t{i} = const()[name = string(\"t{i}\"), val = string(\"custom\")];
            tensor<fp16, [1, 4, 8, 8]> c{i} = conv(x = {prev}, weight = w{i}, strides = s{i}, pad = p{i}, pad_type = t{i})[name = string(\"c{i}\")];
            tensor<fp16, [1, 4, 8, 8]> r{i} = relu(x = c{i})[name = string(\"r{i}\")];\n",
            64 + 384 * i
        ));
        prev = format!("r{i}");
    }
    text.push_str(&format!(
        "            tensor<int32, [4]> sh = shape(x = {prev})[name = string(\"sh\")];
            tensor<int32, [4]> k = const()[name = string(\"k\"), val = tensor<int32, [4]>([0, 0, 0, 0])];
            tensor<int32, [4]> sh2 = add(x = sh, y = k)[name = string(\"sh2\")];
            tensor<fp16, [1, 4, 8, 8]> out = reshape(x = {prev}, shape = sh2)[name = string(\"out\")];
        }} -> (out);\n}}\n"
    ));
    text
}

/// Edits that change what ops mean (digits of literals and names, dtypes), each checked against a
/// full analysis of the new text; returns how often each way of re-checking was taken.
fn check_rechecks_against_full_analysis(
    original: &str,
    edits: usize,
    seed: u64,
) -> std::collections::HashMap<crate::recheck::Recheck, usize> {
    use crate::documents::Edit;
    let mut rng = Rng(seed);
    let mut m = model(original);
    let mut taken = std::collections::HashMap::new();
    let mut undo: Option<(usize, usize, String)> = None;
    for step in 0..edits {
        let text = m.rope.to_string();
        let (start, end, insert) = match undo.take() {
            Some(u) if rng.below(2) == 0 => u,
            _ => {
                let ops: Vec<mil_ir::Span> = m.map.functions[0].ops.iter().map(|o| o.whole).collect();
                let w = ops[rng.below(ops.len())];
                let stmt = &text[w.start as usize..w.end as usize];
                let digits: Vec<usize> = stmt
                    .match_indices(|c: char| c.is_ascii_digit())
                    .map(|(i, _)| i)
                    .collect();
                match (rng.below(4), stmt.find("fp16")) {
                    (0, Some(i)) => {
                        let at = w.start as usize + i;
                        (at, at + 4, ["fp32", "int32", "fp16"][rng.below(3)].to_string())
                    }
                    _ if !digits.is_empty() => {
                        let at = w.start as usize + digits[rng.below(digits.len())];
                        match rng.below(3) {
                            0 => (at + 1, at + 1, "0".to_string()),
                            _ => (at, at + 1, rng.below(10).to_string()),
                        }
                    }
                    _ => continue,
                }
            }
        };
        let new_text = format!("{}{insert}{}", &text[..start], &text[end..]);
        undo = Some((start, start + insert.len(), text[start..end].to_string()));
        let edit = Edit::Replace {
            span: mil_ir::Span::new(start, end),
            text: insert,
        };
        let rope = Rope::from_str(&new_text);
        m.last_recheck = None;
        if !m.patch(std::slice::from_ref(&edit), step as i32 + 2, &rope) {
            m = Model::build(step as i32 + 2, &new_text, rope, None, Default::default());
        } else if let Some(how) = m.last_recheck {
            *taken.entry(how).or_insert(0) += 1;
        }
        let fresh = model(&new_text);
        assert_eq!(m.diagnostics, fresh.diagnostics, "step {step}: {edit:?}");
        if m.unsettled.ane {
            m.settle();
        }
        assert_eq!(
            m.program_diagnostics, fresh.program_diagnostics,
            "step {step}: {edit:?}\n{new_text}"
        );
        if rng.below(2) == 0 {
            m.finish();
        }
    }
    taken
}

#[test]
fn op_local_rechecks_equal_full_analyses() {
    use crate::recheck::Recheck;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut texts = vec![conv_chain(3)];
    for name in [
        "samples/hand_written.mil",
        "samples/attention.mil",
        "samples/ane_mlp.mil",
    ] {
        texts.push(std::fs::read_to_string(root.join(name)).unwrap());
    }
    let mut total = std::collections::HashMap::new();
    for (i, text) in texts.iter().enumerate() {
        for (how, n) in check_rechecks_against_full_analysis(text, 300, 0x5eed + i as u64) {
            *total.entry(how).or_insert(0) += n;
        }
    }
    // Many edits are re-checked op by op keeping the ANE analysis (or, once a digit typed into a
    // type made a statement unreadable and it was read anew, leaving it for the model to settle);
    // those that change a type or an operand (most, as the random digits pile up) need it again.
    let local = total.get(&Recheck::Local).copied().unwrap_or(0);
    let later = total.get(&Recheck::LocalTypesAneLater).copied().unwrap_or(0);
    assert!(local > 150 && local + later > 200, "{total:?}");
    assert!(
        total.get(&Recheck::LocalTypesFullAne).copied().unwrap_or(0) > 10,
        "{total:?}"
    );
}

#[test]
fn a_literal_edit_is_rechecked_op_by_op_and_its_readers_see_it() {
    use crate::documents::Edit;
    use crate::recheck::Recheck;
    let text = conv_chain(3);
    let mut m = model(&text);
    assert!(m.program_diagnostics.iter().all(|d| d.code.id.starts_with("ANE")));
    // The strides of the second conv: its output is no longer what is declared.
    let at = text
        .find("tensor<int32, [2]>([1, 1])];\n            tensor<int32, [4]> p1")
        .unwrap()
        + 24;
    let edit = Edit::Replace {
        span: mil_ir::Span::new(at, at),
        text: "0".into(),
    };
    let new_text = format!("{}0{}", &text[..at], &text[at..]);
    assert!(m.patch(&[edit], 2, &Rope::from_str(&new_text)));
    assert_eq!(m.last_recheck, Some(Recheck::Local));
    let fresh = model(&new_text);
    assert_eq!(m.program_diagnostics, fresh.program_diagnostics);
    assert!(
        m.program_diagnostics
            .iter()
            .any(|d| d.code == mil_ir::codes::OUTPUT_TYPE)
    );
    // The constant folded into the reshape's shape: the reader of its reader sees the change.
    let at = new_text.find("([0, 0, 0, 0])").unwrap() + 2;
    let edit = Edit::Replace {
        span: mil_ir::Span::new(at, at + 1),
        text: "1".into(),
    };
    let newer = format!("{}1{}", &new_text[..at], &new_text[at + 1..]);
    assert!(m.patch(&[edit], 3, &Rope::from_str(&newer)));
    let fresh = model(&newer);
    assert_eq!(m.program_diagnostics, fresh.program_diagnostics);
    assert!(
        m.program_diagnostics
            .iter()
            .any(|d| d.code == mil_ir::codes::INVALID_VALUE)
    );
}

#[test]
fn a_declared_type_made_wrong_is_reported_once_after_an_edit_too() {
    use crate::documents::Edit;
    // `a`'s dtype to fp32: relu gives fp16. Its readers `b` and `c` are not blamed for it, in the
    // patched model as in a fresh one, whether the edit is to `a` or to a reader re-checked alone.
    let at = TEXT.find("fp16, [1, 4]> a").unwrap();
    let wrong = format!("{}fp32{}", &TEXT[..at], &TEXT[at + 4..]);
    let one_error = |m: &Model| {
        let errors: Vec<_> = m
            .program_diagnostics
            .iter()
            .filter(|d| d.severity == mil_ir::Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, mil_ir::codes::OUTPUT_TYPE);
    };
    let mut m = model(TEXT);
    let edit = Edit::Replace {
        span: mil_ir::Span::new(at, at + 4),
        text: "fp32".into(),
    };
    assert!(m.patch(&[edit], 2, &Rope::from_str(&wrong)));
    assert_eq!(m.program_diagnostics, model(&wrong).program_diagnostics);
    one_error(&m);
    // Editing `b` re-checks `b` alone: the slice must still see that `a` is mistyped (in a full
    // analysis `b` is not checked, as it reads `a`).
    let at = wrong.find("[1, 4]> b").unwrap() + 4;
    let renamed = format!("{}5{}", &wrong[..at], &wrong[at + 1..]);
    let edit = Edit::Replace {
        span: mil_ir::Span::new(at, at + 1),
        text: "5".into(),
    };
    assert!(m.patch(&[edit], 3, &Rope::from_str(&renamed)));
    assert!(m.last_recheck.is_some());
    assert_eq!(m.program_diagnostics, model(&renamed).program_diagnostics);
    one_error(&m);
}
