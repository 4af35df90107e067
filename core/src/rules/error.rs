//! Compile errors, positioned by 1-based line and column so an editor can
//! underline the culprit.

use serde::Serialize;

/// Why a rule did not compile, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters (a tab is one column).
    pub column: u32,
    /// What was expected and what was found.
    pub message: String,
}

impl ParseError {
    /// An error at byte `offset` of `source`.
    pub(super) fn at(source: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            message: message.into(),
        }
    }
}

/// Source text quoted for a message, shortened so a huge token does not
/// flood the error.
pub(super) fn quote(text: &str) -> String {
    const MAX: usize = 32;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let src = "when a\n  é b\n";
        let at = |o| {
            let e = ParseError::at(src, o, "m");
            (e.line, e.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(5), (1, 6));
        assert_eq!(at(7), (2, 1));
        // `b` is after a two-byte `é`: column counts characters.
        assert_eq!(at(12), (2, 5));
        assert_eq!(at(11), (2, 4));
        // Past the end clamps; inside a char steps back to its start.
        assert_eq!(at(10), (2, 3));
        assert_eq!(at(99), (3, 1));
    }

    #[test]
    fn display_and_quote() {
        let e = ParseError { line: 2, column: 7, message: "unterminated string".into() };
        assert_eq!(e.to_string(), "line 2, column 7: unterminated string");
        assert_eq!(quote("abc"), "`abc`");
        assert_eq!(quote(&"x".repeat(40)), format!("`{}…`", "x".repeat(32)));
    }
}
