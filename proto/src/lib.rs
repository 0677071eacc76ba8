//! Core ML packages: the Model proto, weight blobs, and conversion to and from the MIL IR.
