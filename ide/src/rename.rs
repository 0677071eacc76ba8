//! Rename of SSA values: the definition and every use. A new name that is not an identifier, is a
//! keyword, or is already defined in the function is refused, as is renaming a value of a function
//! that failed to resolve a name (the edit could capture it).

use crate::locate::{self, Hit};
use crate::model::Model;
use crate::text_edit::TextEdit;
use mil_ir::Span;

/// The name at `offset` and its text, if it can be renamed.
pub fn prepare(m: &Model, offset: u32) -> Option<(Span, String)> {
    let found = locate::at(m, offset)?;
    let Some(Hit::Value { span, .. }) = found.hit else {
        return None;
    };
    Some((span, m.slice(span)))
}

/// The edits renaming the value at `offset` to `new_name` (`None`: nothing to rename, or the name
/// is unchanged), or why it cannot be done.
pub fn rename(m: &Model, offset: u32, new_name: &str) -> Result<Option<Vec<TextEdit>>, String> {
    let Some(found) = locate::at(m, offset) else {
        return Ok(None);
    };
    let Some(Hit::Value { id, .. }) = found.hit else {
        return Err("only values (SSA names) can be renamed".into());
    };
    let f = &m.program.functions[found.function];
    if !mil_ir::program::is_identifier(new_name) {
        return Err(format!("`{new_name}` is not a MIL name"));
    }
    if matches!(new_name, "program" | "func" | "BLOBFILE" | "true" | "false") {
        return Err(format!("`{new_name}` is a keyword"));
    }
    if f.value(id).name == new_name {
        return Ok(None);
    }
    if f.lookup(new_name).is_some() || f.values.iter().any(|v| v.name == new_name) {
        return Err(format!("`{new_name}` is already defined in `{}`", f.name));
    }
    let unresolved = f
        .ops
        .iter()
        .flat_map(|o| &o.args)
        .any(|a| refers_to(&a.value, new_name))
        || f.blocks
            .iter()
            .flat_map(|b| &b.outputs)
            .any(|r| r.name == new_name);
    if unresolved {
        return Err(format!(
            "`{new_name}` is used (undefined) in `{}`: renaming would capture it",
            f.name
        ));
    }
    let edits = locate::occurrences(f, &m.map.functions[found.function], id)
        .into_iter()
        .map(|span| TextEdit::new(span, new_name))
        .collect();
    Ok(Some(edits))
}

fn refers_to(o: &mil_ir::Operand, name: &str) -> bool {
    o.values().any(|(_, r)| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, apply, model};
    use expect_test::expect;

    #[test]
    fn a_value_is_renamed_at_its_definition_and_every_use() {
        let m = model(TEXT);
        let at = TEXT.find("x = a").unwrap() as u32 + 4;
        let (span, name) = prepare(&m, at).unwrap();
        assert_eq!((&TEXT[span.range()], name.as_str()), ("a", "a"));
        let edits = rename(&m, at, "first").unwrap().unwrap();
        expect![[r#"
            program(1.3)
            {
                func main<ios18>(tensor<fp16, [1, 4]> x) {
                        tensor<fp16, [1, 4]> first = relu(x = x)[name = string("a")];
                        tensor<fp16, [1, 4]> b = mul(x = first, y = x)[name = string("b")];
                        tensor<fp16, [1, 4]> c = add(x = b, y = first)[name = string("c")];
                    } -> (c);
            }
        "#]]
        .assert_eq(&apply(TEXT, &edits));
    }

    #[test]
    fn names_that_are_taken_keywords_or_not_names_are_refused() {
        let m = model(TEXT);
        let at = TEXT.find("a = relu").unwrap() as u32;
        let why = |name| rename(&m, at, name).unwrap_err();
        expect!["`b` is already defined in `main`"].assert_eq(&why("b"));
        expect!["`func` is a keyword"].assert_eq(&why("func"));
        expect!["`1a` is not a MIL name"].assert_eq(&why("1a"));
        assert_eq!(rename(&m, at, "a"), Ok(None));
        let op = TEXT.find("relu").unwrap() as u32;
        expect!["only values (SSA names) can be renamed"].assert_eq(&rename(&m, op, "z").unwrap_err());
    }
}
