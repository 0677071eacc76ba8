//! The inference API the editor features use: the inferred type of every op result, also where
//! the declared one is wrong, and nothing for what cannot be inferred.

use mil_ir::infer::{Problem, infer_function};

#[test]
fn inferred_types_are_found_by_op_and_by_value() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 3, 8, 8]> x) {
            tensor<int32, [4]> s = shape(x = x)[name = string("s")];
            tensor<fp16, [9, 9]> y = reduce_mean(axes = tensor<int32, [2]>([2, 3]), keep_dims = bool(true), x = x)[name = string("y")];
            tensor<fp16, [1, 3]> z = frobnicate(x = x)[name = string("z")];
            tensor<fp16, [1, 3]> w = reshape(shape = tensor<int32, [2]>([5, 5]), x = x)[name = string("w")];
        } -> (y);
}"#;
    let parsed = mil_grammar::parse(text);
    let f = &parsed.program.functions[0];
    let types = infer_function(f);
    let at = |name: &str| {
        types
            .value_type(f, f.lookup(name).unwrap())
            .map(ToString::to_string)
    };
    assert_eq!(at("s").as_deref(), Some("tensor<int32, [4]>"));
    assert_eq!(at("y").as_deref(), Some("tensor<fp16, [1, 3, 1, 1]>"));
    assert_eq!(at("x"), None);
    assert_eq!(at("z"), None);
    let reshape = f.walk_ops()[3];
    assert!(matches!(types.outputs(reshape), Some(Err(Problem::Invalid { input, .. })) if input == "shape"));
    assert!(types.outputs(f.walk_ops()[2]).is_none());
}
