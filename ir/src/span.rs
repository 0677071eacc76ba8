//! Byte ranges into the source text and their conversion to line/column positions.

use std::ops::Range;

/// A half-open byte range `[start, end)` into a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// The range `[start, end)`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span that covers both `self` and `other`.
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Whether `offset` lies inside the span (the end counts as inside, as a cursor would).
    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }

    /// The span as a `Range<usize>`, for slicing the text.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Span {
        Span::new(r.start, r.end)
    }
}

/// A zero-based line and column; the unit of the column is chosen by the caller
/// (UTF-16 code units for LSP, bytes for UTF-8 clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Zero-based line.
    pub line: u32,
    /// Zero-based column.
    pub character: u32,
}

/// How columns are counted when converting offsets to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnUnit {
    /// UTF-8 bytes.
    Utf8,
    /// UTF-16 code units (LSP's default).
    Utf16,
}

/// The start offset of every line of a text, to turn byte offsets into positions and back.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes the line starts of `text` (lines end at `\n`).
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        LineIndex { starts }
    }

    /// The position of byte `offset` in `text`, counting columns in `unit`.
    /// Offsets inside a multi-byte character count up to that character.
    pub fn position(&self, text: &str, offset: u32, unit: ColumnUnit) -> Position {
        let offset = offset.min(text.len() as u32);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line] as usize;
        let mut end = offset as usize;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let prefix = &text[start..end];
        let character = match unit {
            ColumnUnit::Utf8 => prefix.len(),
            ColumnUnit::Utf16 => prefix.chars().map(char::len_utf16).sum(),
        } as u32;
        Position {
            line: line as u32,
            character,
        }
    }

    /// The byte offset of `pos` in `text`; positions past a line's end or the text's end are clamped.
    pub fn offset(&self, text: &str, pos: Position, unit: ColumnUnit) -> u32 {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len() as u32;
        };
        let line_end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&s| s as usize);
        let line = &text[start as usize..line_end];
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= pos.character || c == '\n' {
                return start + i as u32;
            }
            units += match unit {
                ColumnUnit::Utf8 => c.len_utf8() as u32,
                ColumnUnit::Utf16 => c.len_utf16() as u32,
            };
        }
        line_end as u32
    }

    /// The byte range of the line holding byte `offset` of a text of `len` bytes, without its `\n`.
    pub fn line_bounds(&self, offset: u32, len: usize) -> Range<usize> {
        let line = self.starts.partition_point(|&s| s <= offset.min(len as u32)) - 1;
        let start = self.starts[line] as usize;
        let end = self.starts.get(line + 1).map_or(len, |&next| next as usize - 1);
        start..end.max(start)
    }

    /// Number of lines (a text without newline has one).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "ab\n𝄞x\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(
            idx.position(text, x, ColumnUnit::Utf16),
            Position {
                line: 1,
                character: 2
            }
        );
        assert_eq!(
            idx.position(text, x, ColumnUnit::Utf8),
            Position {
                line: 1,
                character: 4
            }
        );
        assert_eq!(
            idx.offset(
                text,
                Position {
                    line: 1,
                    character: 2
                },
                ColumnUnit::Utf16
            ),
            x
        );
        assert_eq!(
            idx.offset(
                text,
                Position {
                    line: 0,
                    character: 99
                },
                ColumnUnit::Utf16
            ),
            2
        );
    }
}
