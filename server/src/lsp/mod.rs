//! `mil lsp`: the language server, over standard input and output.
//!
//! One small module per feature, all answering from the analysed [`model::Model`] of a document
//! and its source map; [`server`] wires them to the protocol, [`worker`] keeps models up to date.

pub mod code_actions;
pub mod code_lens;
pub mod commands;
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
pub mod server;
pub mod signature_help;
pub mod symbols;
pub mod worker;

/// Serves the protocol on stdin/stdout until the client exits; returns the process exit code.
pub fn run() -> i32 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Deeply nested input recurses in the parser; big stacks keep it from overflowing.
        .thread_stack_size(256 << 20)
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mil lsp: cannot start the runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(async {
        let (service, socket) = tower_lsp_server::LspService::build(server::Backend::new)
            .custom_method("mil/documentText", server::Backend::document_text)
            .custom_method("mil/panic", server::Backend::panic)
            .finish();
        tower_lsp_server::Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    0
}
#[cfg(test)]
mod tests;
