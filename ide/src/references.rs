//! Find references: every use of the value at the cursor, and its definition when asked.

use crate::locate::{self, Hit};
use crate::model::Model;
use mil_ir::Span;

/// The uses (and definition, with `include_declaration`) of the value at `offset`, in text order.
pub fn references(m: &Model, offset: u32, include_declaration: bool) -> Option<Vec<Span>> {
    let found = locate::at(m, offset)?;
    let Some(Hit::Value { id, .. }) = found.hit else {
        return None;
    };
    let f = &m.program.functions[found.function];
    let mut spans = locate::occurrences(f, &m.map.functions[found.function], id);
    if !include_declaration {
        spans.remove(0);
    }
    spans.sort_by_key(|s| s.start);
    Some(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, excerpts, model};
    use expect_test::expect;

    #[test]
    fn every_use_of_a_value_in_text_order() {
        let m = model(TEXT);
        let a = TEXT.find("a = relu").unwrap() as u32;
        expect![[r#"
            3:33 "a"
            4:45 "a"
            5:52 "a"
        "#]]
        .assert_eq(&excerpts(TEXT, &references(&m, a, true).unwrap()));
        let uses = references(&m, a, false).unwrap();
        expect![[r#"
            4:45 "a"
            5:52 "a"
        "#]]
        .assert_eq(&excerpts(TEXT, &uses));
        assert_eq!(references(&m, TEXT.find("relu").unwrap() as u32, true), None);
    }
}
