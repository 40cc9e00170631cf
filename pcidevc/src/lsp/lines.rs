//! Byte offsets to LSP positions and back.
//!
//! The protocol counts columns in UTF-16 code units (the only encoding every
//! client supports); the front end's spans are byte offsets. A [`Lines`]
//! holds one text's line starts so that each conversion costs a binary
//! search plus the length of one line.

use lsp_types::{Position, Range};

#[derive(Debug, Clone)]
pub struct Lines {
    /// Byte offset of the start of every line.
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// The position of a byte offset (clamped to the text, snapped down to
    /// a character boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let character = text[start..offset].encode_utf16().count();
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(self.position(text, start), self.position(text, end))
    }

    /// The byte offset of a position. A line past the end gives the end of
    /// the text; a column past the end of its line, the end of that line;
    /// a column inside a surrogate pair, the start of that character.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |next| next - 1);
        let line = &text[start..end];
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            let next = units + c.len_utf16();
            if next > pos.character as usize {
                return start + i;
            }
            units = next;
        }
        // The end of the line, before a `\r` of a CRLF ending.
        start + line.strip_suffix('\r').map_or(line.len(), str::len)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // `é` is 2 bytes and 1 unit, `😀` 4 bytes and 2 units.
        let text = "ab\né😀x\r\nz";
        let lines = Lines::new(text);
        assert_eq!(lines.position(text, 0), Position::new(0, 0));
        assert_eq!(lines.position(text, 3), Position::new(1, 0));
        assert_eq!(lines.position(text, 5), Position::new(1, 1));
        let x = text.find('x').unwrap();
        assert_eq!(lines.position(text, x), Position::new(1, 3));
        assert_eq!(lines.offset(text, Position::new(1, 3)), x);
        assert_eq!(lines.offset(text, Position::new(1, 1)), 5);
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(lines.offset(text, Position::new(1, 2)), 5);
        // Past the end of the line: before its `\r\n`.
        assert_eq!(lines.offset(text, Position::new(1, 99)), x + 1);
        assert_eq!(lines.offset(text, Position::new(9, 0)), text.len());
        // Inside a multi-byte character and past the end never panic.
        assert_eq!(lines.position(text, 4), Position::new(1, 0));
        assert_eq!(lines.position(text, 1000), Position::new(2, 1));
    }
}
