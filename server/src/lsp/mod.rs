//! `mil lsp`: the language server, over standard input and output.
//!
//! Only the protocol lives here: the features are `mil_ide`'s (re-exported below under their
//! names), answering from a document's analysed [`model::Model`] in their own types;
//! [`from_proto`] and [`to_proto`] convert to and from the protocol's, [`server`] wires them to the
//! requests, [`open_documents`] keeps the documents the client has open and [`worker`] their
//! analyses up to date.

pub mod commands;
pub mod from_proto;
pub mod open_documents;
pub mod progress;
pub mod server;
pub mod to_proto;
pub mod worker;

pub use mil_ide::{
    code_actions, code_lens, completion, config, definition, folding, formatting, hover, inlay_hints, model,
    placement, position, references, rename, semantic_tokens, signature_help, symbols,
};

/// Serves the protocol on stdin/stdout until the client exits; returns the process exit code.
pub fn run() -> i32 {
    #[cfg(target_os = "linux")]
    without_huge_pages();
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
/// Asks the kernel not to back this process's memory with transparent huge pages. The allocator
/// asks for them, and the kernel then zeroes a whole 2 MiB page at the first touch of any byte of
/// it: opening the 160k-op benchmark program (about 370 MB of fresh memory) spent a quarter of its
/// time zeroing pages and took 0.6 to 0.85 s; without huge pages it takes 0.5 to 0.6 s
/// (docs/benchmarks.md). A server's latency matters more than the few per cent huge pages save
/// in long loops; the command-line tools keep them.
#[cfg(target_os = "linux")]
fn without_huge_pages() {
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` reads only its integer arguments. It fails
    // on kernels without it, which then keep their huge pages.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
