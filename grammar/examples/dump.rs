fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let p = mil_grammar::parse(&text);
        let ops: usize = p.program.functions.iter().map(|f| f.ops.len()).sum();
        println!(
            "{path}: {} functions, {ops} ops, {} diags",
            p.program.functions.len(),
            p.diagnostics.len()
        );
        for d in p.diagnostics.iter().take(40) {
            println!(
                "  {:?} {} {:?} {}",
                d.span,
                d.code.id,
                &text[d.span.range()].chars().take(30).collect::<String>(),
                d.message
            );
        }
    }
}
