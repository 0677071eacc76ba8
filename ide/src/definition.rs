//! Go to definition: from a use of a value to the name in its definition.

use crate::locate::{self, Hit};
use crate::model::Model;
use mil_ir::Span;

/// The name of the definition of the value at `offset`.
pub fn definition(m: &Model, offset: u32) -> Option<Span> {
    let found = locate::at(m, offset)?;
    let Some(Hit::Value { id, .. }) = found.hit else {
        return None;
    };
    Some(m.map.functions[found.function].values.get(id.index())?.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, excerpts, model};
    use expect_test::expect;

    #[test]
    fn a_use_leads_to_the_name_of_its_definition() {
        let m = model(TEXT);
        let at = |needle: &str| TEXT.find(needle).unwrap() as u32;
        let found = [at("x = a, y") + 4, at("y = x)") + 4, at("(c);") + 1, at("mul(")];
        let spans: Vec<Span> = found.iter().filter_map(|&o| definition(&m, o)).collect();
        expect![[r#"
            3:33 "a"
            2:42 "x"
            5:33 "c"
        "#]]
        .assert_eq(&excerpts(TEXT, &spans));
    }
}
