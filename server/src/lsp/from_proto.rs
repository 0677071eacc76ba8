//! The protocol's positions and ranges as `ide` takes them.

use mil_ide::position::{self, Encoding, Position, Range};
use mil_ir::Span;
use ropey::Rope;
use tower_lsp_server::ls_types::{self as lsp, PositionEncodingKind};

/// A position.
pub fn position(p: lsp::Position) -> Position {
    Position::new(p.line, p.character)
}

/// A range.
pub fn range(r: lsp::Range) -> Range {
    Range::new(position(r.start), position(r.end))
}

/// The byte offset of a position in `rope`.
pub fn offset(rope: &Rope, p: lsp::Position, enc: Encoding) -> u32 {
    position::offset(rope, position(p), enc) as u32
}

/// The byte span of a range of `rope`.
pub fn span(rope: &Rope, r: lsp::Range, enc: Encoding) -> Span {
    position::span(rope, range(r), enc)
}

/// The encoding of columns: UTF-8 when the client offers it, else UTF-16.
pub fn encoding(offered: Option<&[PositionEncodingKind]>) -> Encoding {
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}
