//! Source files and spans.
//!
//! Every AST node and diagnostic points into a [`SourceMap`] through a
//! [`Span`]: a file id plus a byte range. Line and column numbers are derived
//! on demand (1-based, columns counted in characters) so that a 10 MB line
//! costs nothing until an error is actually reported on it.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// Byte offset of the first byte covered.
    pub start: usize,
    /// Byte offset just past the last byte covered (`>= start`).
    pub end: usize,
}

impl Span {
    /// The range `start..end` of `file`; an `end` before `start` is raised to
    /// `start` (an empty span), so a span is never inverted.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }

    /// The smallest span covering both (same file assumed; otherwise `self`).
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span::new(
            self.file,
            self.start.min(other.start),
            self.end.max(other.end),
        )
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Covers no byte (a position, e.g. where a missing `;` was expected).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as given by the user).
    pub name: String,
    /// The path used to resolve `include`s relative to this file, if any.
    pub path: Option<PathBuf>,
    /// The whole file, as read (UTF-8).
    pub text: String,
    /// Byte offset of the start of every line, for line/column lookup.
    line_starts: Vec<usize>,
    /// All ASCII: a column is a byte distance (no need to count characters).
    ascii: bool,
}

impl SourceFile {
    /// A file named `name` in diagnostics, with the `path` its includes resolve
    /// against (`None` for text given directly, e.g. from the language server or
    /// a test); the line table is built once here.
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = text.is_ascii();
        SourceFile {
            name: name.into(),
            path,
            text,
            line_starts,
            ascii,
        }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_index(offset.min(self.text.len())) + 1
    }

    fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        if self.ascii {
            return (line + 1, offset - start + 1);
        }
        // Offsets always come from pest or from char boundaries we computed,
        // but never trust them: snap down to a char boundary.
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }
}

impl SourceFile {
    /// `offset` moved into the text and down to a character boundary, so
    /// that slicing at it never panics.
    pub fn snap(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The whole lines that the byte range `start..end` touches, as a byte
    /// range of the text without the last line's newline. A range that ends
    /// just after a newline does not touch the next line.
    pub fn lines_around(&self, start: usize, end: usize) -> Range<usize> {
        let start = self.snap(start);
        let end = self.snap(end).max(start);
        let first = self.line_starts[self.line_index(start)];
        let last_byte = if end > start { end - 1 } else { end };
        let last = self.line_index(last_byte);
        let stop = self
            .line_starts
            .get(last + 1)
            .map_or(self.text.len(), |next| next - 1);
        first..stop.max(first)
    }
}

/// All files of one compilation: the spec and what it includes.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id (ids are handed out in order, from 0).
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId((self.files.len() - 1) as u32)
    }

    /// The file with this id (`None` for an id from another map).
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// Every file, in id order: the spec first, then its includes as loaded.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// 1-based line of the start of a span (cheaper than [`Self::location`]
    /// on long lines: no characters are counted).
    pub fn line(&self, span: Span) -> usize {
        self.get(span.file).map_or(0, |f| f.line(span.start))
    }

    /// `name:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> Location {
        match self.get(span.file) {
            Some(f) => {
                let (line, column) = f.line_col(span.start);
                let (end_line, end_column) = f.line_col(span.end);
                Location {
                    file: f.name.clone(),
                    line,
                    column,
                    end_line,
                    end_column,
                }
            }
            None => Location {
                file: "<unknown>".into(),
                line: 0,
                column: 0,
                end_line: 0,
                end_column: 0,
            },
        }
    }

    /// The text a span covers (empty when out of range).
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }

    /// The id of the file loaded from exactly `path` (compared as given,
    /// not canonicalized), if the map has one.
    pub fn find_by_path(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path.as_deref() == Some(path))
            .map(|i| FileId(i as u32))
    }
}

/// A resolved position, for humans and JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's name as shown in diagnostics.
    pub file: String,
    /// 1-based line of the span's start.
    pub line: usize,
    /// 1-based column of the span's start, in characters.
    pub column: usize,
    /// 1-based line of the span's end.
    pub end_line: usize,
    /// 1-based column of the span's end, in characters (exclusive).
    pub end_column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_and_lines() {
        let f = SourceFile::new("t", None, "ab\ncé d\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(2), (1, 3));
        assert_eq!(f.line_col(3), (2, 1));
        // 'é' is two bytes: the 'd' at byte 7 is column 4.
        assert_eq!(f.line_col(7), (2, 4));
        // Past the end and inside a multi-byte char never panic.
        assert_eq!(f.line_col(1000).0, 3);
        assert_eq!(f.line_col(5), (2, 2));
    }

    #[test]
    fn lines_around_covers_whole_lines_only() {
        let f = SourceFile::new("t", None, "ab\ncé d\nxyz".to_string());
        assert_eq!(f.lines_around(4, 5), 3..8, "inside line 2");
        assert_eq!(f.lines_around(1, 4), 0..8, "lines 1 and 2");
        assert_eq!(f.lines_around(0, 3), 0..2, "ends after the newline");
        assert_eq!(f.lines_around(9, 9), 9..12, "empty, on the last line");
        assert_eq!(f.lines_around(5, 100), 3..12, "past the end");
        assert_eq!(f.snap(5), 4, "inside `é`");
        let empty = SourceFile::new("e", None, String::new());
        assert_eq!(empty.lines_around(0, 0), 0..0);
    }
}
