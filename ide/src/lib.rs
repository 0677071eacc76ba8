//! The analysis behind the language server and the command line: the settings ([`config`]), the
//! pipeline ([`analysis`]), documents and their incremental analysis ([`documents`], [`model`],
//! [`incremental`], [`reread`], [`recheck`]), and one module per language feature, each answering in its own
//! plain types (byte spans, strings, enums) that the server converts to the protocol's. Nothing
//! here knows the protocol or an async runtime, and no analysis fails: bad input gives
//! diagnostics.

pub mod analysis;
pub mod ane_fixes;
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
pub mod quant_actions;
pub mod quantize;
pub mod recheck;
pub mod references;
pub mod rename;
pub mod reread;
pub mod run;
pub mod semantic_tokens;
pub mod signature_help;
pub mod symbols;
pub mod text_edit;
pub mod w8a8;

/// The reference interpreter, whose tensors, `.npy` files and random inputs the command line hands
/// on as they are (`mil run`, `mil quantize`).
pub use mil_eval as eval;
/// The quantisers and their calibration (`mil quantize`).
pub use mil_quant as quant;
/// The rewrites of ANE surgery (`mil fix`).
pub use mil_rewrite as rewrite;

#[cfg(test)]
mod tests;
