//! Core ML packages: the Model proto, weight blobs, and conversion to and from the MIL IR.
//!
//! - [`spec`] / [`mil`]: the protobuf messages, generated from `proto/schema/*.proto`.
//! - [`blob`]: weight.bin, read and streamed out; [`raw`]: element bytes; [`weights`] and
//!   [`blob_check`]: BLOBFILE references resolved and checked against the files beside a program.
//! - [`manifest`] and [`package`]: Manifest.json and the `.mlpackage` folder, written atomically.
//! - [`to_proto`] and [`compile`]: a MIL program compiled into a package.
//! - [`from_proto`] and [`decompile`]: a package (or a bare `model.mlmodel`) turned back into MIL
//!   text and a weights folder; [`kept_description`]: the package's model description carried
//!   through the text.
//!
//! The format facts this crate relies on are collected in `docs/package-format.md`.

#![warn(missing_docs)]

/// The Core ML protobuf messages (`CoreML.Specification` and `CoreML.Specification.MILSpec`),
/// generated at build time from `proto/schema/*.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod coreml {
    include!(concat!(env!("OUT_DIR"), "/coreml.rs"));
}

pub mod blob;
pub mod blob_check;
pub mod codes;
pub mod compile;
pub mod decompile;
pub mod from_proto;
pub mod kept_description;
pub mod manifest;
pub mod package;
pub mod raw;
pub mod to_proto;
pub mod weights;

pub use coreml::core_ml::specification as spec;
pub use coreml::core_ml::specification::mil_spec as mil;
