//! The error body every endpoint answers with:
//! `{"error": {"code", "message", "details"}}`.
//!
//! The codes live here, in `core`, because the edge worker answers some
//! errors itself and must use exactly the same body as the origin.

use serde::{Deserialize, Serialize};

/// Documented error codes. The HTTP status of each is fixed by [`ErrorCode::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum ErrorCode {
    /// 400: the body is not valid JSON, a field has the wrong type, or a value
    /// is out of range. `details` names the field.
    ValidationError,
    /// 400: a field has a value of the right JSON type but the wrong kind
    /// (e.g. an unknown blocklist `list_type`).
    InvalidType,
    /// 400: an unknown blocklist `severity`.
    InvalidSeverity,
    /// 401: the API key or token is missing, malformed, unknown, revoked or expired.
    Unauthorized,
    /// 403: the credential is valid but lacks the permission or role.
    Forbidden,
    /// 403: a publishable key was used where only a secret key may be.
    SecretKeyRequired,
    /// 403: a publishable key was sent to an endpoint that refuses it.
    PublicKeyNotAllowed,
    /// 404: no such resource (or not visible to this organisation).
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the resource already exists.
    Duplicate,
    /// 409: the case cannot move to the requested status from its current one;
    /// `details.allowed` lists where it can go.
    InvalidStatusTransition,
    /// 409: the case was already submitted.
    AlreadySubmitted,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the idempotency key was already used with a different body.
    IdempotencyKeyReused,
    /// 429: the key exceeded its rate limit; see `X-RateLimit-Reset`.
    RateLimitExceeded,
    /// 429: a dashboard user (or a login address) exceeded its rate limit.
    RateLimited,
    /// 500: an unexpected failure; nothing was half-written. Safe to retry.
    InternalError,
    /// 503: assess is temporarily unavailable (overload or maintenance).
    AssessMaintenance,
    /// 503: the shared rate-limit store is unreachable.
    RateLimitStoreUnavailable,
    /// 504: assess could not finish within its deadline; retry with the same idempotency key.
    AssessTimeout,
}

impl ErrorCode {
    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            ValidationError | InvalidType | InvalidSeverity => 400,
            Unauthorized => 401,
            Forbidden | SecretKeyRequired | PublicKeyNotAllowed => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            Duplicate | InvalidStatusTransition | AlreadySubmitted => 409,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            IdempotencyKeyReused => 422,
            RateLimitExceeded | RateLimited => 429,
            InternalError => 500,
            AssessMaintenance | RateLimitStoreUnavailable => 503,
            AssessTimeout => 504,
        }
    }
}

/// The `error` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation. Never echoes card numbers or secrets.
    pub message: String,
    /// Structured context, e.g. `{"field": "payment_method.card_bin"}`; may be null.
    pub details: Option<serde_json::Value>,
}

/// The error body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// Builds a body with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody { error: ErrorDetail { code, message: message.into(), details: None } }
    }

    /// Builds a body whose details name the offending field.
    pub fn for_field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
                details: Some(serde_json::json!({ "field": field })),
            },
        }
    }
}
