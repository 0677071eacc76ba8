//! The analysis behind the language server and the command line: documents, their incremental
//! analysis, the settings, and one module per language feature.

pub mod analysis;
pub mod code_actions;
pub mod code_lens;
pub mod completion;
pub mod config;
pub mod context;
pub mod definition;
pub mod diagnostics;
pub mod documents;
pub mod folding;
pub mod formatting;
pub mod hover;
pub mod incremental;
pub mod inlay_hints;
pub mod locate;
pub mod model;
pub mod placement;
pub mod position;
pub mod recheck;
pub mod references;
pub mod rename;
pub mod semantic_tokens;
pub mod signature_help;
pub mod symbols;
pub mod text_edit;

/// The paths the modules had in the server, while they still use them.
pub mod lsp {
    pub use crate::{
        code_actions, code_lens, completion, config, context, definition, diagnostics, documents, folding,
        formatting, hover, incremental, inlay_hints, locate, model, placement, position, recheck,
        references, rename, semantic_tokens, signature_help, symbols,
    };
    #[cfg(test)]
    pub(crate) use crate::tests;

    /// What every request needs besides the model.
    pub mod server {
        use crate::lsp::config::Config;
        use crate::lsp::model::Model;
        use crate::lsp::position::{self, Encoding};
        use tower_lsp_server::ls_types::{Position, Range, Uri};

        /// What the client can do, as far as the features care.
        #[derive(Clone, Debug, Default)]
        pub struct ClientCaps {
            /// Completion items may be snippets.
            pub snippets: bool,
            /// Hover contents may be Markdown.
            pub markdown: bool,
        }

        /// What every request of one document needs besides the model.
        pub struct Ctx<'a> {
            /// The document.
            pub uri: &'a Uri,
            /// How positions are counted.
            pub enc: Encoding,
            /// The settings.
            pub config: &'a Config,
            /// The client's abilities.
            pub caps: &'a ClientCaps,
        }

        impl Ctx<'_> {
            /// The byte offset of `pos` in the model's text.
            pub fn offset(&self, m: &Model, pos: Position) -> u32 {
                position::offset(&m.rope, pos, self.enc) as u32
            }

            /// The range of a byte span of the model's text.
            pub fn range(&self, m: &Model, span: mil_ir::Span) -> Range {
                position::range(&m.rope, span, self.enc)
            }
        }
    }
}

#[cfg(test)]
mod tests;
