//! JSON bodies parsed and written with serde, documented with poem-openapi.
//!
//! poem-openapi's own `Json<T>` parses into a `serde_json::Value` and then
//! into `T`, and reports type errors without the field's path. [`JsonBody`]
//! parses the bytes straight into `T` with serde (one pass, with a size
//! limit) and names the offending field (`payment_method.card_bin: invalid
//! type …`). [`JsonBytes`] sends bytes serialised once — what idempotent
//! replays need to be byte-identical — while documenting `T`'s schema.

use std::marker::PhantomData;

use clausum_core::wire::{ErrorBody, ErrorCode};
use poem::{IntoResponse, Request, RequestBody, Response, http::header};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions,
    payload::{ParsePayload, Payload},
    registry::{MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest accepted request body, unless configured otherwise.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Body-size limit, stored in the request's data by the server.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body parsed with serde.
#[derive(Debug)]
pub struct JsonBody<T> {
    /// The parsed value.
    pub value: T,
    /// The raw bytes as received.
    pub raw: bytes::Bytes,
}

fn is_json(content_type: &str) -> bool {
    matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application"
        && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
}

impl<T: Type + Send> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Turns a serde error into a validation error naming the field.
fn parse_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_eof() {
        return ApiError::new(ErrorCode::ValidationError, "The JSON body is truncated.");
    }
    let at_top = path == "." || path.is_empty();
    // A missing required field is named: it is ours, not the caller's data.
    if let Some(name) = missing_field(&inner.to_string()) {
        let field = if at_top { name.to_owned() } else { format!("{path}.{name}") };
        return ApiError::from_body(ErrorBody::for_field(
            ErrorCode::ValidationError,
            &field,
            format!("{field} is required"),
        ));
    }
    if at_top {
        // serde's text names expectations and positions, never echoes input.
        return ApiError::new(ErrorCode::ValidationError, format!("Invalid JSON body: {inner}"));
    }
    ApiError::from_body(ErrorBody::for_field(
        ErrorCode::ValidationError,
        &path,
        format!("{path}: {}", redact_serde_message(&inner.to_string())),
    ))
}

/// The field serde reports missing (``missing field `name` at line …``).
fn missing_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    let name = &rest[..rest.find('`')?];
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then_some(name)
}

/// serde quotes offending values (`invalid type: string "4111…"`,
/// ``invalid type: integer `4111…` ``); drop what is quoted so a card
/// number or email never echoes back.
pub fn redact_serde_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut open: Option<char> = None;
    for c in msg.chars() {
        match open {
            None if c == '"' || c == '`' => {
                open = Some(c);
                out.push(c);
                out.push('…');
                out.push(c);
            }
            None => out.push(c),
            Some(q) if c == q => open = None,
            Some(_) => {}
        }
    }
    out
}

impl<T: DeserializeOwned + Type + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(req: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = req.data::<BodyLimit>().map_or(DEFAULT_MAX_BODY_BYTES, |l| l.0);
        let raw = body.take()?.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("Request body is larger than {limit} bytes."),
            ),
            _ => ApiError::new(ErrorCode::ValidationError, "Could not read the request body."),
        })?;
        if raw.is_empty() {
            return Err(
                ApiError::new(ErrorCode::ValidationError, "A JSON body is required.").into()
            );
        }
        // The fast path parses plainly; only a failed parse pays for
        // re-parsing with path tracking, to name the offending field.
        match serde_json::from_slice::<T>(&raw) {
            Ok(value) => Ok(JsonBody { value, raw }),
            Err(_) => {
                let de = &mut serde_json::Deserializer::from_slice(&raw);
                match serde_path_to_error::deserialize::<_, T>(de) {
                    Err(e) => Err(parse_error(e).into()),
                    // Unreachable in practice: the same bytes, the same type.
                    Ok(value) => Ok(JsonBody { value, raw }),
                }
            }
        }
    }
}

impl<'a, T: DeserializeOwned + Type + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: Self::CONTENT_TYPE,
                schema: Self::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match req.content_type() {
            Some(ct) if is_json(ct) => <Self as ParsePayload>::from_request(req, body).await,
            _ => Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.",
            )
            .into()),
        }
    }
}

/// A JSON response serialised once, documented as `T`.
#[derive(Debug, Clone)]
pub struct JsonBytes<T> {
    bytes: bytes::Bytes,
    _schema: PhantomData<fn() -> T>,
}

impl<T: serde::Serialize> JsonBytes<T> {
    /// Serialises `value`.
    pub fn new(value: &T) -> Self {
        Self::from_bytes(serde_json::to_vec(value).expect("response types always serialise").into())
    }
}

impl<T> JsonBytes<T> {
    /// Wraps bytes already known to be a serialised `T`.
    pub fn from_bytes(bytes: bytes::Bytes) -> Self {
        JsonBytes { bytes, _schema: PhantomData }
    }

    /// The bytes.
    pub fn bytes(&self) -> &bytes::Bytes {
        &self.bytes
    }
}

impl<T: Type> Payload for JsonBytes<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for JsonBytes<T> {
    fn into_response(self) -> Response {
        Response::builder().header(header::CONTENT_TYPE, "application/json").body(self.bytes)
    }
}

impl<T: Type + Send> ApiResponse for JsonBytes<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_not_echoed() {
        let m = redact_serde_message("invalid type: string \"4111111111111111\", expected u64");
        assert_eq!(m, "invalid type: string \"…\", expected u64");
        let m = redact_serde_message("invalid type: integer `4111111111111111`, expected a string");
        assert_eq!(m, "invalid type: integer `…`, expected a string");
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(
            missing_field("missing field `beneficiary` at line 1 column 38"),
            Some("beneficiary")
        );
        assert_eq!(missing_field("invalid type: string, expected u64"), None);
        assert_eq!(missing_field("missing field `a b`"), None);
    }
}
