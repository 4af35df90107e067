//! Custom rules on the wire, and the checks a rule passes before it is
//! stored: a unique, printable name and source text that compiles.

use clausum_core::{
    rules::{ParseError, Rule},
    wire::{ErrorBody, ErrorCode, ErrorDetail},
};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::{
    api::common::{iso, new_id},
    error::ApiError,
    store::RuleRow,
};

/// Longest rule name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest rule source, in characters.
pub const MAX_SOURCE: usize = 10_000;
/// Most rules one organisation may hold.
pub const MAX_RULES: usize = 5_000;
/// Priority of a rule created without one.
pub const DEFAULT_PRIORITY: i64 = 100;
/// Accepted priorities.
pub const PRIORITIES: std::ops::RangeInclusive<i64> = 0..=1_000_000;

/// A custom rule.
#[derive(Object, Serialize, Debug, Clone)]
pub struct CustomRule {
    /// `rule_…`.
    pub id: String,
    /// Unique name within the organisation. Reported as `blocked_by: "rule:<name>"` when the
    /// rule declines, and as the signal code of a forcing rule without `as <code>`.
    pub name: String,
    /// The rule text, e.g. `when amount > 1000 then decline as big_ticket`.
    pub source: String,
    /// Evaluation order, lower first (0–1,000,000). Every matching rule applies, so the order
    /// only decides which declining rule is named in `blocked_by` and the order of signals.
    pub priority: i64,
    /// Disabled rules are kept but not evaluated.
    pub enabled: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<&RuleRow> for CustomRule {
    fn from(r: &RuleRow) -> Self {
        CustomRule {
            id: r.id.clone(),
            name: r.name.clone(),
            source: r.source.clone(),
            priority: r.priority,
            enabled: r.enabled,
            created_at: iso(r.created_at),
            updated_at: iso(r.updated_at),
        }
    }
}

/// A new rule.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// Unique name within the organisation, 1–100 characters (trimmed).
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: String,
    /// The rule text (at most 10,000 characters); it must compile.
    #[oai(validator(max_length = 10000))]
    pub source: String,
    /// Evaluation order, lower first (0–1,000,000; default 100).
    #[serde(default)]
    pub priority: Option<i64>,
    /// Whether the rule is evaluated (default `true`).
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl NewRule {
    /// The row to store, with name, source and priority checked.
    pub fn into_row(self, org_id: &str, now: i64) -> Result<RuleRow, ApiError> {
        Ok(RuleRow {
            id: new_id("rule"),
            organization_id: org_id.to_owned(),
            name: clean_name(&self.name)?,
            source: compiled_source(self.source)?,
            priority: check_priority(self.priority.unwrap_or(DEFAULT_PRIORITY))?,
            enabled: self.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        })
    }
}

/// Changes to a rule; absent fields stay as they are.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    /// New name, 1–100 characters, unique within the organisation.
    #[serde(default)]
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: Option<String>,
    /// New rule text (at most 10,000 characters); it must compile.
    #[serde(default)]
    #[oai(validator(max_length = 10000))]
    pub source: Option<String>,
    /// New evaluation order (0–1,000,000).
    #[serde(default)]
    pub priority: Option<i64>,
    /// Enable or disable the rule.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl RulePatch {
    /// `before` with the patch applied.
    pub fn apply(self, before: &RuleRow, now: i64) -> Result<RuleRow, ApiError> {
        if self.name.is_none()
            && self.source.is_none()
            && self.priority.is_none()
            && self.enabled.is_none()
        {
            return Err(ApiError::new(
                ErrorCode::ValidationError,
                "Send at least one of `name`, `source`, `priority`, `enabled`.",
            ));
        }
        let mut row = before.clone();
        if let Some(n) = self.name {
            row.name = clean_name(&n)?;
        }
        if let Some(s) = self.source {
            row.source = compiled_source(s)?;
        }
        if let Some(p) = self.priority {
            row.priority = check_priority(p)?;
        }
        if let Some(e) = self.enabled {
            row.enabled = e;
        }
        row.updated_at = now;
        Ok(row)
    }
}

/// Rule text to check without saving it.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleSource {
    /// The rule text (at most 10,000 characters).
    #[oai(validator(max_length = 10000))]
    pub source: String,
}

/// Whether rule text compiles.
#[derive(Object, Serialize, Debug, Clone)]
pub struct RuleValidation {
    /// `true` when the text compiles and could be saved.
    pub valid: bool,
    /// Where and why it does not compile; `null` when valid.
    pub error: Option<RuleSyntaxError>,
}

/// A compile error, positioned for an editor to underline.
#[derive(Object, Serialize, Debug, Clone)]
pub struct RuleSyntaxError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// What was expected and what was found, or what is wrong.
    pub message: String,
    /// What the compiler expected at that position (e.g. "`then`"), when the error is of
    /// that kind; `null` for other errors (unknown field, type mismatch, …).
    pub expected: Option<String>,
}

impl From<&ParseError> for RuleSyntaxError {
    fn from(e: &ParseError) -> Self {
        RuleSyntaxError {
            line: e.line,
            column: e.column,
            message: e.message.clone(),
            expected: expected(&e.message),
        }
    }
}

/// The "X" of the compiler's "expected X, found Y" messages.
pub fn expected(message: &str) -> Option<String> {
    let rest = message.strip_prefix("expected ")?;
    Some(rest.split_once(", found ").map_or(rest, |(x, _)| x).to_owned())
}

/// The checked verdict on `source` (length first, then compilation).
pub fn validate(source: &str) -> Result<RuleValidation, ApiError> {
    check_source_length(source)?;
    Ok(match Rule::compile(source) {
        Ok(_) => RuleValidation { valid: true, error: None },
        Err(e) => RuleValidation { valid: false, error: Some(RuleSyntaxError::from(&e)) },
    })
}

/// 400 `VALIDATION_ERROR` for source that does not compile; `details`
/// carry `field`, `line`, `column` and `expected`.
pub fn compile_error(e: &ParseError) -> ApiError {
    ApiError::from_body(ErrorBody {
        error: ErrorDetail {
            code: ErrorCode::ValidationError,
            message: format!("The rule does not compile: {e}."),
            details: Some(serde_json::json!({
                "field": "source",
                "line": e.line,
                "column": e.column,
                "expected": expected(&e.message),
            })),
        },
    })
}

fn check_source_length(source: &str) -> Result<(), ApiError> {
    if source.chars().count() > MAX_SOURCE {
        return Err(ApiError::field(
            "source",
            format!("`source` has at most {MAX_SOURCE} characters"),
        ));
    }
    Ok(())
}

/// Source that compiles, as given (positions in errors refer to it).
fn compiled_source(source: String) -> Result<String, ApiError> {
    check_source_length(&source)?;
    Rule::compile(&source).map_err(|e| compile_error(&e))?;
    Ok(source)
}

fn clean_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let len = name.chars().count();
    if !(1..=MAX_NAME).contains(&len) {
        return Err(ApiError::field("name", format!("`name` has 1 to {MAX_NAME} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::field("name", "`name` contains control characters"));
    }
    Ok(name.to_owned())
}

fn check_priority(p: i64) -> Result<i64, ApiError> {
    if PRIORITIES.contains(&p) {
        Ok(p)
    } else {
        Err(ApiError::field("priority", "`priority` must be between 0 and 1000000"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_is_taken_from_the_compiler_message() {
        assert_eq!(expected("expected `then`, found `x`").as_deref(), Some("`then`"));
        assert_eq!(
            expected("expected `,` or `]`, found the end of the rule").as_deref(),
            Some("`,` or `]`")
        );
        assert_eq!(expected("unterminated string"), None);
    }

    #[test]
    fn validation_reports_position() {
        let v = validate("when amount > 1000 then decline as big_ticket").unwrap();
        assert!(v.valid && v.error.is_none());
        let v = validate("when amount > 1000\nthen explode").unwrap();
        let e = v.error.expect("an error");
        assert!(!v.valid);
        assert_eq!((e.line, e.column), (2, 6));
        assert!(e.expected.is_some(), "{e:?}");
        assert!(validate(&"x".repeat(MAX_SOURCE + 1)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  big ticket ").unwrap(), "big ticket");
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"n".repeat(MAX_NAME + 1)).is_err());
        assert!(clean_name("a\u{7}b").is_err());
        assert!(check_priority(-1).is_err());
        assert_eq!(check_priority(0).unwrap(), 0);
    }
}
