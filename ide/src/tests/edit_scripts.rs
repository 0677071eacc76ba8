//! The property behind incremental analysis: after any script of edits — inside statements, new
//! lines, indentation, statements typed keystroke by keystroke through their invalid states, lines
//! and blocks deleted, statements pasted, the function header edited, and undo of each — the model
//! kept up to date edit by edit is what analysing the text from scratch gives: its diagnostics, and
//! its program and source map as far as they can be observed (live ops in program order with
//! their arguments, attributes, results, uses and spans; ids, which a fresh analysis numbers
//! differently after statements were added, are compared through what they stand for).

use super::{Rng, conv_chain, floor};
use crate::documents::Edit;
use crate::model::Model;
use crate::recheck::Recheck;
use mil_ir::{Function, OpId, Program, SourceMap, Use, ValueDef, ValueId};
use ropey::Rope;
use std::collections::HashMap;
use std::fmt::Write;

/// The program and source map as a text that does not depend on arena ids.
pub(super) fn observable(program: &Program, map: &SourceMap) -> String {
    let mut out = format!(
        "program {} {:?} {:?}\n",
        program.version, map.program, map.version
    );
    for (f, spans) in program.functions.iter().zip(&map.functions) {
        function(&mut out, f, spans);
    }
    out
}

fn function(out: &mut String, f: &Function, spans: &mil_ir::FunctionSpans) {
    let order = f.walk_ops();
    let position: HashMap<OpId, usize> = order.iter().enumerate().map(|(i, &o)| (o, i)).collect();
    let value = |v: Option<ValueId>| match v.map(|v| f.value(v).def) {
        None => "unresolved".to_string(),
        Some(ValueDef::Param(i)) => format!("param {i}"),
        Some(ValueDef::Result(op, i)) => format!("op {} result {i}", position[&op]),
        Some(ValueDef::BlockParam(b, i)) => format!("block {} param {i}", b.0),
    };
    let use_of = |u: &Use| match *u {
        Use::Operand { op, arg, item } => format!("op {} arg {arg} item {item:?}", position[&op]),
        Use::Output { block, index } => format!("block {} output {index}", block.0),
    };
    let uses = |v: ValueId| {
        let mut all: Vec<String> = f.value(v).uses.iter().map(use_of).collect();
        all.sort();
        all
    };
    let _ = writeln!(
        out,
        "func {}<{}> {:?} {:?} {:?}",
        f.name, f.opset, spans.whole, spans.name, spans.opset
    );
    for &p in &f.params {
        let v = f.value(p);
        let _ = writeln!(
            out,
            "  param {} {} {:?} uses {:?}",
            v.name,
            v.ty,
            spans.values[p.index()],
            uses(p)
        );
    }
    for (i, &o) in order.iter().enumerate() {
        let op = f.op(o);
        let mut bare = op.clone();
        for (_, r) in bare.operands_mut() {
            r.id = None;
        }
        bare.results = Default::default();
        bare.parent = f.body;
        let reads: Vec<String> = op
            .operands()
            .map(|(slot, r)| format!("{slot:?} {} -> {}", r.name, value(r.id)))
            .collect();
        let _ = writeln!(
            out,
            "  op {i}: {bare:?}\n    reads {reads:?}\n    spans {:?}",
            spans.ops[o.index()]
        );
        for &r in &op.results {
            let v = f.value(r);
            let _ = writeln!(
                out,
                "    result {} {} {:?} uses {:?}",
                v.name,
                v.ty,
                spans.values[r.index()],
                uses(r)
            );
        }
    }
    let body = f.block(f.body);
    let outputs: Vec<String> = body
        .outputs
        .iter()
        .map(|r| format!("{} -> {}", r.name, value(r.id)))
        .collect();
    let _ = writeln!(out, "  returns {outputs:?} {:?}", spans.blocks[f.body.index()]);
    let mut symbols: Vec<String> = f
        .symbols
        .iter()
        .map(|(name, &v)| format!("{name} = {}", value(Some(v))))
        .collect();
    symbols.sort();
    let _ = writeln!(out, "  symbols {symbols:?}");
}

/// The lines of `text` that are statements of the body, as (start, end with its newline).
fn statement_lines(text: &str) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.ends_with(';') && t.contains(" = ") && !t.starts_with('}') {
            lines.push((start, start + line.len()));
        }
        start += line.len();
    }
    lines
}

/// A statement to type or paste, made from the line `line`: its result and op names made new with
/// `tag` (or kept, now and then, so that names clash).
fn copied_statement(line: &str, tag: usize, keep_names: bool) -> String {
    if keep_names {
        return line.to_string();
    }
    let Some(eq) = line.find(" = ") else {
        return line.to_string();
    };
    let name_start = line[..eq].rfind(' ').map_or(0, |i| i + 1);
    let name = &line[name_start..eq];
    let renamed = format!("{name}_t{tag}");
    format!(
        "{}{renamed}{}",
        &line[..name_start],
        line[eq..].replace(&format!("string(\"{name}\")"), &format!("string(\"{renamed}\")"))
    )
}

/// One random edit of `text`: (start, end, inserted text), with a note of its kind.
fn random_edit(rng: &mut Rng, text: &str, step: usize) -> (usize, usize, String, &'static str) {
    let lines = statement_lines(text);
    if lines.is_empty() {
        return (0, 0, " ".into(), "space");
    }
    let (ls, le) = lines[rng.below(lines.len())];
    let line = &text[ls..le];
    let indent = line.len() - line.trim_start().len();
    match rng.below(10) {
        0 => (ls, ls, "\n".into(), "new line"),
        1 => (ls, ls, [" ", "\t", "    "][rng.below(3)].into(), "indent"),
        2 if indent > 0 => (ls, ls + 1, String::new(), "dedent"),
        3 => (ls, le, String::new(), "delete line"),
        4 => {
            let n = 1 + rng.below(4);
            let last = lines
                .iter()
                .position(|&(s, _)| s == ls)
                .map_or(le, |i| lines[(i + n).min(lines.len()) - 1].1);
            (ls, last, String::new(), "delete block")
        }
        5 => {
            let n = 1 + rng.below(5);
            let i = rng.below(lines.len());
            let mut pasted = String::new();
            for (k, &(s, e)) in lines[i..(i + n).min(lines.len())].iter().enumerate() {
                pasted.push_str(&copied_statement(&text[s..e], step * 10 + k, rng.below(8) == 0));
            }
            (ls, ls, pasted, "paste")
        }
        6 => {
            // The header: a space in its parameter list, or a digit of a parameter's shape.
            let Some(func) = text.find("func ") else {
                return (ls, ls, "\n".into(), "new line");
            };
            let header_end = func + text[func..].find('{').unwrap_or(0);
            let digits: Vec<usize> = text[func..header_end]
                .match_indices(|c: char| c.is_ascii_digit())
                .map(|(i, _)| func + i)
                .collect();
            match (rng.below(2), digits.is_empty()) {
                (0, false) => {
                    let at = digits[rng.below(digits.len())];
                    (at, at + 1, rng.below(10).to_string(), "header digit")
                }
                _ => {
                    let at = func + text[func..header_end].find('(').map_or(0, |i| i + 1);
                    (at, at, " ".into(), "header space")
                }
            }
        }
        _ => {
            // Inside a statement: a character typed or deleted.
            let at = ls + indent + rng.below(line.trim().len().max(1));
            let pieces = [
                "1", "x", "_", " ", ",", "=", "(", ")", "\"", "[", "]", ";", "fp32",
            ];
            match rng.below(2) {
                0 => (at, at, pieces[rng.below(pieces.len())].into(), "in statement"),
                _ => (at, (at + 1).min(le - 1), String::new(), "in statement"),
            }
        }
    }
}

/// Replays a random edit script through [`Model::patch`] (rebuilding when it declines, as the
/// server does) and checks the model against a fresh analysis after every edit. Statements are
/// also typed one keystroke at a time, and edits taken back. Returns how many edits were patched,
/// and how many of those added, removed or reshaped statements.
fn check_edit_script(original: &str, edits: usize, seed: u64) -> (usize, usize) {
    let mut rng = Rng(seed);
    let mut m = super::model(original);
    let (mut patched, mut structural) = (0, 0);
    let mut undo: Vec<(usize, usize, String)> = Vec::new();
    // A statement being typed: where the next keystroke goes and what is left to type.
    let mut typing: Option<(usize, String)> = None;
    for step in 0..edits {
        // Now and then the client sends the original text again (as after a reload).
        if step % 40 == 39 && typing.is_none() {
            m = super::model(original);
            undo.clear();
            continue;
        }
        let text = m.rope.to_string();
        let (start, end, insert, kind) = if let Some((at, rest)) = typing.take() {
            let n = 1 + rng.below(3).min(rest.len() - 1);
            let n = floor(&rest, n).max(1);
            if rest.len() > n {
                typing = Some((at + n, rest[n..].to_string()));
            }
            (at, at, rest[..n].to_string(), "typing")
        } else if !undo.is_empty() && rng.below(2) == 0 {
            let (s, e, t) = undo.pop().unwrap();
            (s, e, t, "undo")
        } else if rng.below(6) == 0 {
            let lines = statement_lines(&text);
            let (ls, le) = lines[rng.below(lines.len().max(1))];
            let stmt = copied_statement(&text[ls..le], step, rng.below(6) == 0);
            typing = Some((ls, stmt));
            continue;
        } else {
            random_edit(&mut rng, &text, step)
        };
        let (start, end) = (floor(&text, start), floor(&text, end.max(start)));
        let new_text = format!("{}{insert}{}", &text[..start], &text[end..]);
        if kind != "undo" {
            undo.push((start, start + insert.len(), text[start..end].to_string()));
        }
        let edit = Edit::Replace {
            span: mil_ir::Span::new(start, end),
            text: insert,
        };
        let rope = Rope::from_str(&new_text);
        let version = step as i32 + 2;
        m.last_recheck = None;
        if m.patch(std::slice::from_ref(&edit), version, &rope) {
            patched += 1;
            structural += usize::from(m.last_recheck == Some(crate::recheck::Recheck::LocalTypesAneLater));
        } else {
            m = Model::build(version, &new_text, rope, None, Default::default());
        }
        let fresh = super::model(&new_text);
        let context = || format!("step {step}, {kind}: {edit:?}\n{new_text}");
        assert_eq!(m.rope.to_string(), new_text, "{}", context());
        assert_eq!(m.diagnostics, fresh.diagnostics, "{}", context());
        let not_ane = |d: &&mil_ir::Diagnostic| !d.code.id.starts_with("ANE");
        let types = |m: &Model| -> Vec<mil_ir::Diagnostic> {
            m.program_diagnostics.iter().filter(not_ane).cloned().collect()
        };
        assert_eq!(types(&m), types(&fresh), "{}", context());
        if !m.unsettled.ane {
            assert_eq!(m.program_diagnostics, fresh.program_diagnostics, "{}", context());
        }
        // Span moves and the ANE analysis may stay owed while typing goes on (as the server lets
        // them); once settled, everything is the fresh analysis.
        if rng.below(3) == 0 {
            m.settle();
            let settled =
                Model::build_settled(1, &new_text, Rope::from_str(&new_text), None, Default::default());
            let all = |m: &Model| m.all_diagnostics().cloned().collect::<Vec<_>>();
            assert_eq!(all(&m), all(&settled), "{}", context());
            assert_eq!(
                all(&m),
                crate::analysis::diagnostics(&new_text, None, &Default::default()),
                "{}",
                context()
            );
            assert_eq!(
                observable(&m.program, &m.map),
                observable(&fresh.program, &fresh.map),
                "{}",
                context()
            );
        }
    }
    (patched, structural)
}

#[test]
fn edit_scripts_leave_the_model_a_fresh_analysis_gives() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut texts = vec![conv_chain(4)];
    for name in [
        "samples/hand_written.mil",
        "samples/attention.mil",
        "samples/ane_mlp.mil",
    ] {
        texts.push(std::fs::read_to_string(root.join(name)).unwrap());
    }
    let (mut patched, mut structural) = (0, 0);
    for (i, text) in texts.iter().enumerate() {
        let (p, s) = check_edit_script(text, 500, 0xed17 + i as u64);
        patched += p;
        structural += s;
    }
    // Most edits are patched (the rest come after a syntax error elsewhere in the text), and
    // many of those add, remove or reshape statements.
    assert!(patched > 700, "only {patched} of 2000 edits were patched");
    assert!(
        structural > 400,
        "only {structural} structural edits were patched"
    );
}

/// The keystrokes of typing `stmt` at `at` as an editor sends them with the extension's language
/// configuration: an opening `"` comes with its closing one, which typing `"` then steps over.
pub(crate) fn keystrokes(stmt: &str, at: usize) -> Vec<(usize, String)> {
    let mut keys = Vec::new();
    let mut in_string = false;
    for (i, c) in stmt.char_indices() {
        match (c, in_string) {
            ('"', false) => keys.push((at + i, "\"\"".to_string())),
            ('"', true) => {}
            _ => keys.push((at + i, c.to_string())),
        }
        if c == '"' {
            in_string = !in_string;
        }
    }
    keys
}

/// Applies `edit` to `m` and checks it was patched, not rebuilt, and that the settled model is a
/// fresh analysis of the new text.
fn patched_as_fresh(m: &mut Model, kind: &str, (start, end, insert): (usize, usize, String), version: i32) {
    let now = m.rope.to_string();
    let new_text = format!("{}{insert}{}", &now[..start], &now[end..]);
    let edit = Edit::Replace {
        span: mil_ir::Span::new(start, end),
        text: insert,
    };
    assert!(
        m.patch(std::slice::from_ref(&edit), version, &Rope::from_str(&new_text)),
        "{kind} {edit:?}"
    );
    let fresh = super::model(&new_text);
    assert_eq!(m.diagnostics, fresh.diagnostics, "{kind} {edit:?}");
    m.settle();
    let settled = Model::build_settled(1, &new_text, Rope::from_str(&new_text), None, Default::default());
    let all = |m: &Model| m.all_diagnostics().cloned().collect::<Vec<_>>();
    assert_eq!(all(m), all(&settled), "{kind} {edit:?}");
    assert_eq!(
        observable(&m.program, &m.map),
        observable(&settled.program, &settled.map),
        "{kind} {edit:?}"
    );
}

#[test]
fn every_class_of_structural_edit_is_patched_not_rebuilt() {
    let text = conv_chain(3);
    let lines = statement_lines(&text);
    let (ls, le) = lines[6];
    let header = text.find("[1, 4, 8, 8]> x)").unwrap() + 4;
    let pasted: String = lines[1..7]
        .iter()
        .map(|&(s, e)| copied_statement(&text[s..e], 2, false))
        .collect();
    let edits: Vec<(&str, usize, usize, String)> = vec![
        ("new line", ls, ls, "\n".into()),
        ("indent", ls, ls, " ".into()),
        ("dedent", ls, ls + 1, String::new()),
        ("delete line", ls, le, String::new()),
        ("delete block", ls, lines[9].1, String::new()),
        ("paste", ls, ls, pasted),
        ("header space", header, header, " ".into()),
        ("header digit", header - 2, header - 1, "5".into()),
    ];
    for (kind, start, end, insert) in edits {
        let mut m = super::model(&text);
        let undo = (start, start + insert.len(), text[start..end].to_string());
        patched_as_fresh(&mut m, kind, (start, end, insert), 2);
        patched_as_fresh(&mut m, "undo", undo, 3);
        assert_eq!(m.rope.to_string(), text);
    }
    // A statement typed one key at a time on a new line.
    let mut m = super::model(&text);
    patched_as_fresh(&mut m, "new line", (ls, ls, "\n".into()), 2);
    let stmt = copied_statement(&text[ls..le], 1, false);
    let keys = keystrokes(stmt.trim_end(), ls);
    for (i, (at, key)) in keys.iter().enumerate() {
        patched_as_fresh(&mut m, "typing", (*at, *at, key.clone()), 3 + i as i32);
    }
    let typed = m.rope.to_string();
    assert_eq!(typed[ls..].split('\n').next(), Some(stmt.trim_end()));
    // Undone at once: the typed line goes.
    let end = ls + stmt.trim_end().len() + 1;
    patched_as_fresh(&mut m, "undo typing", (ls, end, String::new()), 1000);
    assert_eq!(m.rope.to_string(), text);
}

#[test]
fn a_deleted_statement_is_checked_again_at_its_readers_alone() {
    // Before, the readers of a name taken away were constant to the inferencer, and so was every
    // op after them down the chain: the re-check grew down forty layers until it gave up.
    let text = conv_chain(40);
    let line_of = |needle: &str| {
        let at = text.find(needle).unwrap();
        let start = text[..at].rfind('\n').unwrap() + 1;
        (start, at + text[at..].find('\n').unwrap() + 1)
    };
    let (relu, relu_end) = line_of("r3 = relu");
    let (layer, _) = line_of("w3 = const");
    for (kind, start, end) in [("delete line", relu, relu_end), ("delete block", layer, relu_end)] {
        let mut m = super::model(&text);
        patched_as_fresh(&mut m, kind, (start, end, String::new()), 2);
        assert!(
            m.diagnostics
                .iter()
                .any(|d| d.code == mil_ir::codes::UNDEFINED_VALUE),
            "{kind}"
        );
        assert_eq!(m.last_recheck, Some(Recheck::LocalTypesAneLater), "{kind}");
        patched_as_fresh(&mut m, "undo", (start, start, text[start..end].to_string()), 3);
        assert_eq!(m.last_recheck, Some(Recheck::LocalTypesAneLater), "{kind}: undo");
    }
}

#[test]
fn a_new_line_and_its_undo_owe_no_span_move() {
    // The undo lies between statements: the in-statement path declines it without making the
    // new line's owed moves, and the re-read composes with them.
    let text = conv_chain(3);
    let (ls, _) = statement_lines(&text)[6];
    let mut m = super::model(&text);
    for (version, (start, end, insert)) in [(2, (ls, ls, "\n")), (3, (ls, ls + 1, ""))] {
        let now = m.rope.to_string();
        let new_text = format!("{}{insert}{}", &now[..start], &now[end..]);
        let edit = Edit::Replace {
            span: mil_ir::Span::new(start, end),
            text: insert.into(),
        };
        assert!(m.patch(std::slice::from_ref(&edit), version, &Rope::from_str(&new_text)));
    }
    assert_eq!(m.deferred_shift.map(|d| d.delta()), Some(0));
    assert_eq!(m.diagnostics, super::model(&text).diagnostics);
}
