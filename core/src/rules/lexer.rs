//! Lexer: source text to tokens with byte offsets.
//!
//! A dotted path (`velocity.email.count_1h`) is one token, because segments
//! may start with a digit and must not be split by whitespace. Keywords are
//! case-insensitive.

use super::error::{ParseError, quote};

/// Reserved words. Matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
    When,
    Then,
    And,
    Or,
    Not,
    In,
    Contains,
    StartsWith,
    EndsWith,
    True,
    False,
    Null,
    Add,
    As,
    Review,
    Challenge,
    Decline,
    Approve,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("when", Kw::When),
    ("then", Kw::Then),
    ("and", Kw::And),
    ("or", Kw::Or),
    ("not", Kw::Not),
    ("in", Kw::In),
    ("contains", Kw::Contains),
    ("starts_with", Kw::StartsWith),
    ("ends_with", Kw::EndsWith),
    ("true", Kw::True),
    ("false", Kw::False),
    ("null", Kw::Null),
    ("add", Kw::Add),
    ("as", Kw::As),
    ("review", Kw::Review),
    ("challenge", Kw::Challenge),
    ("decline", Kw::Decline),
    ("approve", Kw::Approve),
];

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Kw(Kw),
    /// A field path; its text is the token's source span.
    Path,
    Num(f64),
    /// A decoded string literal.
    Str(String),
    Cmp(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eof,
}

/// A token and its byte span in the source.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub(super) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let err = |at: usize, msg: String| Err(ParseError::at(src, at, msg));
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let two = bytes.get(i + 1).copied();
        let tok = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = src[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'(' | b')' | b'[' | b']' | b',' => {
                i += 1;
                match b {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    _ => Tok::Comma,
                }
            }
            b'=' | b'!' | b'<' | b'>' => {
                let (op, len) = match (b, two) {
                    (b'=', Some(b'=')) => (CmpOp::Eq, 2),
                    (b'!', Some(b'=')) => (CmpOp::Ne, 2),
                    (b'<', Some(b'=')) => (CmpOp::Le, 2),
                    (b'>', Some(b'=')) => (CmpOp::Ge, 2),
                    (b'<', _) => (CmpOp::Lt, 1),
                    (b'>', _) => (CmpOp::Gt, 1),
                    (b'=', _) => return err(i, "unexpected `=`; use `==` to compare".into()),
                    _ => {
                        return err(
                            i,
                            "unexpected `!`; use `not` to negate or `!=` to compare".into(),
                        );
                    }
                };
                i += len;
                Tok::Cmp(op)
            }
            b'"' => {
                let (s, end) = string(src, i)?;
                i = end;
                Tok::Str(s)
            }
            b'0'..=b'9' => {
                let (n, end) = number(src, i)?;
                i = end;
                Tok::Num(n)
            }
            b'-' if two.is_some_and(|c| c.is_ascii_digit()) => {
                let (n, end) = number(src, i + 1)?;
                i = end;
                Tok::Num(-n)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                let dotted = bytes.get(i) == Some(&b'.');
                while bytes.get(i) == Some(&b'.') {
                    i += 1;
                    if !bytes.get(i).is_some_and(|&c| is_word(c)) {
                        return err(i, "expected a field name after `.`".into());
                    }
                    while i < bytes.len() && is_word(bytes[i]) {
                        i += 1;
                    }
                }
                let word = &src[start..i];
                if let Some(&(_, kw)) =
                    KEYWORDS.iter().find(|(k, _)| !dotted && k.eq_ignore_ascii_case(word))
                {
                    Tok::Kw(kw)
                } else {
                    // Case is checked by the parser, which knows whether a
                    // field or a code was expected.
                    Tok::Path
                }
            }
            b'&' => return err(i, "unexpected `&`; use `and`".into()),
            b'|' => return err(i, "unexpected `|`; use `or`".into()),
            b'\'' => return err(i, "strings use double quotes: \"…\"".into()),
            _ => {
                let c = src[i..].chars().next().unwrap_or_default();
                return err(i, format!("unexpected character {}", quote(&c.to_string())));
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token { tok: Tok::Eof, start: bytes.len(), end: bytes.len() });
    Ok(out)
}

/// `[0-9]+(\.[0-9]+)?` at `start`; returns the value and the end offset.
fn number(src: &str, start: usize) -> Result<(f64, usize), ParseError> {
    let bytes = src.as_bytes();
    let digits = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut end = digits(start);
    if bytes.get(end) == Some(&b'.') {
        if !bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            return Err(ParseError::at(src, end + 1, "expected digits after `.` in a number"));
        }
        end = digits(end + 1);
    }
    if bytes.get(end).is_some_and(|&c| is_word(c) || c == b'.') {
        let mut stop = end;
        while bytes.get(stop).is_some_and(|&c| is_word(c) || c == b'.') {
            stop += 1;
        }
        let text = &src[start..stop];
        return Err(ParseError::at(src, start, format!("invalid number {}", quote(text))));
    }
    match src[start..end].parse::<f64>() {
        Ok(n) if n.is_finite() => Ok((n, end)),
        _ => Err(ParseError::at(src, start, "number out of range")),
    }
}

/// A double-quoted string at `start`; returns it decoded and the end offset.
/// Strings end on their line so a missing quote is reported where it began.
fn string(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices().map(|(o, c)| (o + start + 1, c));
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((out, at + 1)),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'u')) => out.push(unicode(src, at, &mut chars)?),
                Some((_, '\n')) | None => break,
                Some((_, other)) => {
                    let msg = format!("unknown escape {}", quote(&format!("\\{other}")));
                    return Err(ParseError::at(src, at, msg));
                }
            },
            c => out.push(c),
        }
    }
    Err(ParseError::at(src, start, "unterminated string"))
}

/// The rest of a `\u{…}` escape whose backslash is at `at`.
fn unicode(
    src: &str,
    at: usize,
    chars: &mut impl Iterator<Item = (usize, char)>,
) -> Result<char, ParseError> {
    let bad = || ParseError::at(src, at, "invalid unicode escape; write `\\u{1F600}`");
    if chars.next().map(|(_, c)| c) != Some('{') {
        return Err(bad());
    }
    let mut code: u32 = 0;
    for n in 0..=6 {
        match chars.next().map(|(_, c)| c) {
            Some('}') if n > 0 => return char::from_u32(code).ok_or_else(bad),
            Some(c) if n < 6 && c.is_ascii_hexdigit() => {
                code = code * 16 + c.to_digit(16).unwrap_or(0);
            }
            _ => break,
        }
    }
    Err(bad())
}

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
