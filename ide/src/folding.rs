//! Folding ranges: functions, nested blocks, statements over several lines, and runs of comments.

use crate::model::Model;
use mil_ir::Span;

/// A foldable run of lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    /// Its first line (0-based).
    pub start_line: u32,
    /// Its last line.
    pub end_line: u32,
    /// What it holds.
    pub kind: FoldKind,
}

/// What a fold holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    /// A function or a nested block.
    Region,
    /// A statement over several lines.
    Statement,
    /// A run of `//` lines.
    Comment,
}

/// Every foldable region of the document.
pub fn folding_ranges(m: &Model) -> Vec<Fold> {
    let line = |offset: u32| m.rope.byte_to_line((offset as usize).min(m.rope.len_bytes())) as u32;
    let mut out = Vec::new();
    let fold = |out: &mut Vec<Fold>, span: Span, kind: FoldKind| {
        let (start, end) = (line(span.start), line(span.end));
        if end > start {
            out.push(Fold {
                start_line: start,
                end_line: end,
                kind,
            });
        }
    };
    for spans in &m.map.functions {
        fold(&mut out, spans.whole, FoldKind::Region);
        for b in spans.blocks.iter().skip(1) {
            fold(&mut out, b.whole, FoldKind::Region);
        }
        for o in &spans.ops {
            fold(&mut out, o.whole, FoldKind::Statement);
        }
    }
    // Runs of `//` lines.
    let mut run: Option<(u32, u32)> = None;
    for (i, l) in m.rope.lines().enumerate() {
        let mut chars = l.chars().skip_while(|c| c.is_whitespace());
        let is_comment = chars.next() == Some('/') && chars.next() == Some('/');
        let i = i as u32;
        run = match (is_comment, run) {
            (true, Some((s, _))) => Some((s, i)),
            (true, None) => Some((i, i)),
            (false, Some((s, e))) => {
                if e > s {
                    out.push(Fold {
                        start_line: s,
                        end_line: e,
                        kind: FoldKind::Comment,
                    });
                }
                None
            }
            (false, None) => None,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::model;
    use expect_test::expect;

    #[test]
    fn functions_blocks_long_statements_and_comment_runs_fold() {
        let text = "program(1.3)
{
    // one
    // two
    func main<ios18>(tensor<fp16, [2]> x, bool p) {
        tensor<fp16, [2]> y = relu(
            x = x)[name = string(\"y\")];
        tensor<fp16, [2]> z = cond(pred = p)[name = string(\"z\")]
            block() {
                    tensor<fp16, [2]> a = relu(x = x)[name = string(\"a\")];
                } -> (a)
            block() {
                } -> (x);
    } -> (y);
}
";
        let folds: Vec<String> = folding_ranges(&model(text))
            .iter()
            .map(|f| format!("{}-{} {:?}", f.start_line, f.end_line, f.kind))
            .collect();
        expect![[r#"
            4-13 Region
            8-10 Region
            11-12 Region
            5-6 Statement
            7-12 Statement
            2-3 Comment"#]]
        .assert_eq(&folds.join("\n"));
    }
}
