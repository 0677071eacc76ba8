//! Converting between line-and-column positions and byte offsets of a document held in a rope.
//!
//! Editors count columns in UTF-16 code units (LSP's default) or in UTF-8 bytes; lines end at
//! `\n`, `\r\n` or `\r`, which is how the rope counts them too.

use mil_ir::Span;
use ropey::Rope;

/// A place in a text: a line and a column, both 0-based, the column in some [`Encoding`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The line.
    pub line: u32,
    /// The column.
    pub character: u32,
}

impl Position {
    /// The position at `line`, `character`.
    pub fn new(line: u32, character: u32) -> Position {
        Position { line, character }
    }
}

/// The positions of a span's start and end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    /// Where it starts.
    pub start: Position,
    /// Where it ends.
    pub end: Position,
}

impl Range {
    /// The range from `start` to `end`.
    pub fn new(start: Position, end: Position) -> Range {
        Range { start, end }
    }
}

/// How columns are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16 code units (LSP's default).
    Utf16,
    /// UTF-8 bytes.
    Utf8,
}

/// The number of chars of line `line`, not counting its line break.
fn line_len_chars(rope: &Rope, line: usize) -> usize {
    let slice = rope.line(line);
    let mut n = slice.len_chars();
    while n > 0 && matches!(slice.char(n - 1), '\n' | '\r') {
        n -= 1;
    }
    n
}

/// The byte offset of `pos`; positions past the end of a line or of the text are clamped to it.
pub fn offset(rope: &Rope, pos: Position, enc: Encoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let line_char = rope.line_to_char(line);
    let line_end_char = line_char + line_len_chars(rope, line);
    let char_idx = match enc {
        Encoding::Utf16 => {
            let start_cu = rope.char_to_utf16_cu(line_char);
            let end_cu = rope.char_to_utf16_cu(line_end_char);
            let target = (start_cu + pos.character as usize).min(end_cu);
            rope.utf16_cu_to_char(target)
        }
        Encoding::Utf8 => {
            let line_byte = rope.char_to_byte(line_char);
            let end_byte = rope.char_to_byte(line_end_char);
            let target = (line_byte + pos.character as usize).min(end_byte);
            rope.byte_to_char(target)
        }
    };
    rope.char_to_byte(char_idx.min(line_end_char))
}

/// The position of byte `offset` (an offset inside a character counts as its start).
pub fn position(rope: &Rope, offset: usize, enc: Encoding) -> Position {
    let offset = offset.min(rope.len_bytes());
    let char_idx = rope.byte_to_char(offset);
    let line = rope.char_to_line(char_idx);
    let line_char = rope.line_to_char(line);
    let character = match enc {
        Encoding::Utf16 => rope.char_to_utf16_cu(char_idx) - rope.char_to_utf16_cu(line_char),
        Encoding::Utf8 => rope.char_to_byte(char_idx) - rope.char_to_byte(line_char),
    };
    Position::new(line as u32, character as u32)
}

/// Positions of byte offsets asked for line by line, as the outline and the semantic tokens ask
/// for them: the line last asked about is kept, so an offset on it costs a scan of that line
/// instead of walks down the rope. Answers as [`position`] and [`range`] do.
pub struct LineCursor<'a> {
    rope: &'a Rope,
    enc: Encoding,
    /// The line kept, `None` before the first question.
    line: Option<usize>,
    /// The byte offsets of its start and of the next line's start (past the text on the last line).
    start: usize,
    end: usize,
    /// Its text, line break included, and whether that is all ASCII (columns are then bytes).
    text: String,
    ascii: bool,
}

impl<'a> LineCursor<'a> {
    /// A cursor over `rope` counting columns in `enc`.
    pub fn new(rope: &'a Rope, enc: Encoding) -> LineCursor<'a> {
        LineCursor {
            rope,
            enc,
            line: None,
            start: 0,
            end: 0,
            text: String::new(),
            ascii: true,
        }
    }

    /// The position of byte `offset` (an offset inside a character counts as its start).
    pub fn position(&mut self, offset: usize) -> Position {
        let offset = offset.min(self.rope.len_bytes());
        let line = match self.line {
            Some(line) if (self.start..self.end).contains(&offset) => line,
            _ => self.seek(offset),
        };
        let mut at = offset - self.start;
        let character = if self.ascii {
            at
        } else {
            while !self.text.is_char_boundary(at) {
                at -= 1;
            }
            match self.enc {
                Encoding::Utf16 => self.text[..at].encode_utf16().count(),
                Encoding::Utf8 => at,
            }
        };
        Position::new(line as u32, character as u32)
    }

    /// The range of a byte span.
    pub fn range(&mut self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// Keeps the line of `offset`; its number.
    fn seek(&mut self, offset: usize) -> usize {
        let line = self.rope.char_to_line(self.rope.byte_to_char(offset));
        self.start = self.rope.line_to_byte(line);
        self.end = if line + 1 < self.rope.len_lines() {
            self.rope.line_to_byte(line + 1)
        } else {
            self.rope.len_bytes() + 1
        };
        self.text.clear();
        self.text.extend(self.rope.line(line).chunks());
        self.ascii = self.text.is_ascii();
        self.line = Some(line);
        line
    }
}

/// The range of a byte span.
pub fn range(rope: &Rope, span: Span, enc: Encoding) -> Range {
    Range::new(
        position(rope, span.start as usize, enc),
        position(rope, span.end as usize, enc),
    )
}

/// The byte span of a range.
pub fn span(rope: &Rope, range: Range, enc: Encoding) -> Span {
    let start = offset(rope, range.start, enc);
    let end = offset(rope, range.end, enc).max(start);
    Span::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_in_the_negotiated_unit() {
        let rope = Rope::from_str("ab\r\n𝄞x\rz\n");
        let x = "ab\r\n𝄞".len();
        assert_eq!(position(&rope, x, Encoding::Utf16), Position::new(1, 2));
        assert_eq!(position(&rope, x, Encoding::Utf8), Position::new(1, 4));
        assert_eq!(offset(&rope, Position::new(1, 2), Encoding::Utf16), x);
        assert_eq!(offset(&rope, Position::new(1, 4), Encoding::Utf8), x);
        // A lone `\r` ends a line; columns past the end clamp to it.
        assert_eq!(offset(&rope, Position::new(2, 0), Encoding::Utf16), x + 2);
        assert_eq!(offset(&rope, Position::new(0, 99), Encoding::Utf16), 2);
        assert_eq!(
            offset(&rope, Position::new(9, 0), Encoding::Utf16),
            rope.len_bytes()
        );
        // Half a surrogate pair or half a UTF-8 sequence lands on the character's start.
        assert_eq!(offset(&rope, Position::new(1, 1), Encoding::Utf16), 4);
        assert_eq!(offset(&rope, Position::new(1, 2), Encoding::Utf8), 4);
    }

    #[test]
    fn the_line_cursor_answers_as_position_does() {
        let text = "ab\r\n𝄞x\rz\né\n\nlast";
        let rope = Rope::from_str(text);
        for enc in [Encoding::Utf16, Encoding::Utf8] {
            let mut cursor = LineCursor::new(&rope, enc);
            // Forwards, backwards and past the end, every byte (also those inside a character).
            let offsets = (0..=text.len() + 2).chain((0..=text.len()).rev());
            for offset in offsets {
                assert_eq!(
                    cursor.position(offset),
                    position(&rope, offset, enc),
                    "{enc:?} {offset}"
                );
            }
        }
    }
}
