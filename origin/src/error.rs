//! One error type for the whole API, mapped to the documented body
//! `{"error": {"code", "message", "details"}}`.
//!
//! Handlers return `Result<_, ApiError>`; poem-openapi documents every
//! variant in the spec. Errors raised before a handler runs (no route,
//! wrong method, bad content type, missing credentials, oversized body,
//! panics) are converted to the same body by [`normalize_errors`], so no
//! client ever sees another shape. Database errors are logged and answered
//! with a generic message: their text never reaches a client.

use clausum_core::wire::{ErrorBody, ErrorCode};
use poem::{
    Endpoint, Response,
    http::{StatusCode, header},
};
use poem_openapi::{ApiResponse, payload::Json};

use crate::store::StoreError;

/// Every error answer of the API, by status.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request is malformed: invalid JSON, wrong types, out-of-range values.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing, malformed, unknown, revoked or expired credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Valid credentials without the needed permission or key type.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// A conflicting request: a duplicate, or a state that does not allow it.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The route exists, but not with this method.
    #[oai(status = 405)]
    MethodNotAllowed(Json<ErrorBody>),
    /// The body is larger than the limit.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not JSON.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// The idempotency key was already used with a different body.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Rate limit exceeded.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorBody>,
        /// Seconds until a request will be admitted again.
        #[oai(header = "Retry-After")]
        u64,
        /// Requests still admissible now (0).
        #[oai(header = "X-RateLimit-Remaining")]
        u32,
        /// Unix time (seconds) when the window admits again.
        #[oai(header = "X-RateLimit-Reset")]
        i64,
    ),
    /// Unexpected failure. Nothing was half-written; safe to retry.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// Temporarily unavailable; retry after the given seconds.
    #[oai(status = 503)]
    Unavailable(
        Json<ErrorBody>,
        /// Seconds to wait before retrying.
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// The request could not finish within its deadline; retry with the same idempotency key.
    #[oai(status = 504)]
    Timeout(Json<ErrorBody>),
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::from_body(ErrorBody::new(code, message))
    }

    /// A validation error naming the field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::from_body(ErrorBody::for_field(ErrorCode::ValidationError, field, message))
    }

    /// Wraps a body in the variant its code's status calls for.
    pub fn from_body(body: ErrorBody) -> Self {
        let j = Json(body);
        match j.0.error.code.status() {
            400 => ApiError::BadRequest(j),
            401 => ApiError::Unauthorized(j),
            403 => ApiError::Forbidden(j),
            404 => ApiError::NotFound(j),
            405 => ApiError::MethodNotAllowed(j),
            409 => ApiError::Conflict(j),
            413 => ApiError::PayloadTooLarge(j),
            415 => ApiError::UnsupportedMediaType(j),
            422 => ApiError::Unprocessable(j),
            429 => ApiError::TooManyRequests(j, 1, 0, 0),
            503 => ApiError::Unavailable(j, 1),
            504 => ApiError::Timeout(j),
            _ => ApiError::Internal(j),
        }
    }

    /// The error body.
    pub fn body(&self) -> &ErrorBody {
        match self {
            ApiError::BadRequest(j)
            | ApiError::Unauthorized(j)
            | ApiError::Forbidden(j)
            | ApiError::NotFound(j)
            | ApiError::Conflict(j)
            | ApiError::MethodNotAllowed(j)
            | ApiError::PayloadTooLarge(j)
            | ApiError::UnsupportedMediaType(j)
            | ApiError::Unprocessable(j)
            | ApiError::TooManyRequests(j, ..)
            | ApiError::Internal(j)
            | ApiError::Unavailable(j, _)
            | ApiError::Timeout(j) => &j.0,
        }
    }

    /// A generic 500; the cause is logged, not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            ErrorCode::InternalError,
            "Internal error. Nothing was changed; it is safe to retry.",
        )
    }

    /// 429 with the `X-RateLimit-*` headers of a refused admission.
    /// `code` is `RATE_LIMIT_EXCEEDED` on the Partner API (API keys) and
    /// `RATE_LIMITED` on the management API (users), as documented.
    pub fn rate_limited(code: ErrorCode, admission: &crate::limiter::Admission) -> Self {
        ApiError::TooManyRequests(
            Json(ErrorBody::new(
                code,
                format!(
                    "Rate limit of {} requests per minute exceeded; retry after {} s.",
                    admission.limit, admission.retry_after_s
                ),
            )),
            admission.retry_after_s,
            admission.remaining,
            admission.reset_at_s,
        )
    }

    /// The database could not be reached or failed: 503, retry shortly.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "storage unavailable");
        ApiError::Unavailable(
            Json(ErrorBody::new(
                ErrorCode::AssessMaintenance,
                "Storage is temporarily unavailable; nothing was recorded. Retry with the same idempotency key.",
            )),
            1,
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(_) => {
                ApiError::new(ErrorCode::Duplicate, "The resource already exists.")
            }
            StoreError::Database(ref db) if is_unavailable(db) => ApiError::unavailable(&e),
            other => ApiError::internal(&other),
        }
    }
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => is_transient(d.as_ref()),
        _ => false,
    }
}

/// Lock contention, or a server going away: the write rolled back, and a
/// retry shortly is the cure — a 503, not a 500.
fn is_transient(d: &dyn sqlx::error::DatabaseError) -> bool {
    if let Some(e) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        // SQLITE_BUSY and SQLITE_LOCKED, extended codes included (low byte).
        let code = sqlx::error::DatabaseError::code(e).and_then(|c| c.parse::<i32>().ok());
        return code.is_some_and(|c| matches!(c & 0xFF, 5 | 6));
    }
    // PostgreSQL: serialization failure, deadlock, lock timeout, shutdown,
    // not accepting connections, too many connections.
    d.code()
        .is_some_and(|c| matches!(&*c, "40001" | "40P01" | "55P03" | "57P01" | "57P03" | "53300"))
}

/// Serialises an error body with a status.
pub fn json_error(status: StatusCode, body: &ErrorBody) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(body).unwrap_or_default())
}

/// Maps a framework error to the documented body, keeping the request id.
fn framework_error(err: poem::Error) -> Response {
    let id = err.data::<crate::metrics::RequestId>().cloned();
    let mut resp = documented(err);
    if let Some(v) = id.and_then(|id| poem::http::HeaderValue::from_str(&id.0).ok()) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Maps a framework error (no route, wrong method, missing auth, bad
/// content type, oversized body) to the documented body.
fn documented(err: poem::Error) -> Response {
    if err.is_from_response() {
        // ApiError converts into a response-carrying error that already
        // has the documented body and headers: pass it through.
        let resp = err.into_response();
        let is_json = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        return if is_json { resp } else { by_status(resp.status(), None) };
    }
    let status = err.status();
    if status.is_server_error() {
        tracing::error!(error = %err, "unhandled error");
        return by_status(status, None);
    }
    by_status(status, Some(err.to_string()))
}

/// The documented body for a bare status; `detail` is the framework's
/// explanation of a client error (it names parameters, never values).
fn by_status(status: StatusCode, detail: Option<String>) -> Response {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "No such route.".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            (ErrorCode::MethodNotAllowed, "Method not allowed on this route.".to_owned())
        }
        StatusCode::UNAUTHORIZED => (
            ErrorCode::Unauthorized,
            "Missing or malformed credentials: send `Authorization: Bearer <key>`.".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ErrorCode::PayloadTooLarge, "Request body too large.".to_owned())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with `Content-Type: application/json`.".to_owned(),
        ),
        s if s.is_client_error() => {
            (ErrorCode::ValidationError, detail.unwrap_or_else(|| "Invalid request.".to_owned()))
        }
        _ => (
            ErrorCode::InternalError,
            "Internal error. Nothing was changed; it is safe to retry.".to_owned(),
        ),
    };
    let status = StatusCode::from_u16(code.status()).unwrap_or(status);
    json_error(status, &ErrorBody::new(code, message))
}

/// A panic answers 500 with the documented body (and is logged).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    by_status(StatusCode::INTERNAL_SERVER_ERROR, None)
}

/// Wraps an endpoint so every error leaves as the documented JSON body.
pub fn normalize_errors<E: Endpoint + 'static>(ep: E) -> impl Endpoint {
    use poem::EndpointExt;
    ep.catch_all_error(|err| async move { framework_error(err) })
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Executor, sqlite::SqliteConnectOptions};

    use super::*;

    #[tokio::test]
    async fn a_locked_sqlite_database_is_a_503() {
        let dir =
            std::env::temp_dir().join(format!("clausum-busy-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let opts = SqliteConnectOptions::new()
            .filename(dir.join("busy.db"))
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let mut holder = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        holder.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        holder.execute("BEGIN IMMEDIATE").await.unwrap();
        let mut other = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        let err = other.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
        let api = ApiError::from(StoreError::Database(err));
        assert!(matches!(api, ApiError::Unavailable(..)), "{api:?}");
        assert_eq!(api.body().error.code, ErrorCode::AssessMaintenance);
        // Any other database error is still internal.
        let err = other.execute("INSERT INTO nowhere VALUES (1)").await.unwrap_err();
        let api = ApiError::from(StoreError::Database(err));
        assert_eq!(api.body().error.code, ErrorCode::InternalError);
        drop((holder, other));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
