//! Lexer tests: tokens, spans, strings, numbers and every lexical error.

use super::*;

fn toks(src: &str) -> Vec<Tok> {
    lex(src).unwrap().into_iter().map(|t| t.tok).collect()
}

fn fails(src: &str) -> (u32, u32, String) {
    let e = lex(src).unwrap_err();
    (e.line, e.column, e.message)
}

#[test]
fn tokens_and_spans() {
    let ts = lex("WHEN velocity.email.count_1h >= -5.5 # note\n(").unwrap();
    let kinds: Vec<_> = ts.iter().map(|t| t.tok.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            Tok::Kw(Kw::When),
            Tok::Path,
            Tok::Cmp(CmpOp::Ge),
            Tok::Num(-5.5),
            Tok::LParen,
            Tok::Eof
        ]
    );
    assert_eq!((ts[1].start, ts[1].end), (5, 28));
    assert_eq!((ts[3].start, ts[3].end), (32, 36));
}

#[test]
fn operators_punctuation_keywords() {
    use Tok::*;
    assert_eq!(
        toks("== != < <= > >= [ ] , )"),
        vec![
            Cmp(CmpOp::Eq),
            Cmp(CmpOp::Ne),
            Cmp(CmpOp::Lt),
            Cmp(CmpOp::Le),
            Cmp(CmpOp::Gt),
            Cmp(CmpOp::Ge),
            LBracket,
            RBracket,
            Comma,
            RParen,
            Eof
        ]
    );
    assert_eq!(
        toks("Not STARTS_WITH null x1_y Amount"),
        vec![Kw(super::Kw::Not), Kw(super::Kw::StartsWith), Kw(super::Kw::Null), Path, Path, Eof]
    );
    // A keyword followed by a dot is a path (and will be an unknown field).
    assert_eq!(toks("in.x"), vec![Path, Eof]);
    assert_eq!(toks("a<-1"), vec![Path, Cmp(CmpOp::Lt), Num(-1.0), Eof]);
}

#[test]
fn strings_and_escapes() {
    assert_eq!(
        toks(r#""a\"b\\c\n\t\u{e9}\u{1F600}#""#),
        vec![Tok::Str("a\"b\\c\n\té😀#".into()), Tok::Eof]
    );
    assert_eq!(fails("x == \"abc"), (1, 6, "unterminated string".into()));
    assert_eq!(fails("\"ab\ncd\""), (1, 1, "unterminated string".into()));
    assert_eq!(fails("  \"a\\q\""), (1, 5, "unknown escape `\\q`".into()));
    assert_eq!(fails("\"\\u{110000}\"").1, 2);
    assert_eq!(fails("\"\\u{}\"").1, 2);
    assert_eq!(fails("\"\\u{1234567}\"").1, 2);
    assert_eq!(fails("\"\\u12\"").1, 2);
    assert_eq!(fails("\"\\").2, "unterminated string");
}

#[test]
fn numbers() {
    assert_eq!(toks("0 12.50 -3"), vec![Tok::Num(0.0), Tok::Num(12.5), Tok::Num(-3.0), Tok::Eof]);
    assert_eq!(fails("x > 10m"), (1, 5, "invalid number `10m`".into()));
    assert_eq!(fails("x > 1.5.2"), (1, 5, "invalid number `1.5.2`".into()));
    assert_eq!(fails("x > 1."), (1, 7, "expected digits after `.` in a number".into()));
    assert_eq!(fails(&"9".repeat(400)), (1, 1, "number out of range".into()));
}

#[test]
fn bad_characters_and_identifiers() {
    assert_eq!(fails("a = 1"), (1, 3, "unexpected `=`; use `==` to compare".into()));
    assert_eq!(fails("!a").2, "unexpected `!`; use `not` to negate or `!=` to compare");
    assert_eq!(fails("a && b"), (1, 3, "unexpected `&`; use `and`".into()));
    assert_eq!(fails("a || b").2, "unexpected `|`; use `or`");
    assert_eq!(fails("'x'").2, "strings use double quotes: \"…\"");
    assert_eq!(fails("\n  é"), (2, 3, "unexpected character `é`".into()));
    assert_eq!(fails("x - 1").2, "unexpected character `-`");
    assert_eq!(fails("email. domain"), (1, 7, "expected a field name after `.`".into()));
    assert_eq!(fails("email.").1, 7);
}

#[test]
fn comments_and_empty() {
    assert_eq!(toks(""), vec![Tok::Eof]);
    assert_eq!(toks("# only a comment"), vec![Tok::Eof]);
    assert_eq!(toks("a # b \"unterminated\n c"), vec![Tok::Path, Tok::Path, Tok::Eof]);
}
