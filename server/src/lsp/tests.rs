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
