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
    let path = safe_path(err.path());
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
        // At the top too serde may quote input (a body sent as a JSON
        // string, an unknown key): redacted like any other field's.
        return ApiError::new(
            ErrorCode::ValidationError,
            format!("Invalid JSON body: {}", redact_serde_message(&inner.to_string())),
        );
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

/// serde quotes the caller's values (`invalid type: string "4111…"`,
/// ``invalid type: integer `4111…` ``, ``unknown field `…` ``); drop what
/// is quoted so a card number or email never echoes back.
///
/// serde writes the caller's part first and its own expectation last
/// (`…, expected a map`), so only the text before the last `, expected `
/// is redacted. A string is quoted with its escapes (`\"` inside), so
/// the redaction follows them; an unknown field or variant is named only
/// when its name is a plain identifier.
pub fn redact_serde_message(msg: &str) -> String {
    let (head, tail) = msg.rfind(", expected ").map_or((msg, ""), |i| msg.split_at(i));
    for prefix in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = head.strip_prefix(prefix) {
            // The name ends at the head's last backtick; what follows is serde's.
            let (name, after) =
                rest.rfind('`').map_or((rest, ""), |i| (&rest[..i], &rest[i + 1..]));
            let shown = if is_plain_name(name) { name } else { "…" };
            return format!("{prefix}{shown}`{after}{tail}");
        }
    }
    let mut out = String::with_capacity(msg.len());
    let mut open: Option<char> = None;
    let mut escaped = false;
    for c in head.chars() {
        match open {
            None if c == '"' || c == '`' => {
                open = Some(c);
                out.push(c);
                out.push('…');
                out.push(c);
            }
            None => out.push(c),
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => open = None,
            Some(_) => {}
        }
    }
    out.push_str(tail);
    out
}

/// A field name worth repeating: short, identifier characters, and at
/// most four digits in all (a card or phone number used as a key, however
/// punctuated, is not one).
fn is_plain_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.chars().filter(char::is_ascii_digit).count() <= 4
}

/// The path of a refused field as safe to repeat: a map key that is not a
/// plain name (the caller's data used as a key) is shown as `…`.
fn safe_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if is_plain_name(key) { key } else { "…" });
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

/// Whether a JSON text holds a string with a NUL character (`\u0000`):
/// PostgreSQL refuses NUL in text, and no field has a use for it, so such
/// a body is refused whole rather than half-stored or failed with a 500.
/// (A raw NUL byte is already invalid JSON.)
fn has_nul_escape(raw: &[u8]) -> bool {
    raw.windows(6).enumerate().any(|(i, w)| {
        w == b"\\u0000" && raw[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// 400 for a JSON body holding a NUL character (see [`has_nul_escape`]).
pub(crate) fn refuse_nul_body(raw: &[u8]) -> Result<(), ApiError> {
    if has_nul_escape(raw) {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "The body holds a NUL character (\\u0000) in a string; no field accepts it.",
        ));
    }
    Ok(())
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
        refuse_nul_body(&raw)?;
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
    fn escaped_quotes_do_not_end_the_redaction() {
        // `metadata` sent as a string holding JSON: serde quotes it with escapes.
        let input = r#"{"card":"4111111111111111","name":"Ana Pérez"}"#;
        let err = serde_json::from_value::<std::collections::BTreeMap<String, String>>(
            serde_json::Value::String(input.into()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("4111111111111111"), "serde quotes it: {err}");
        let m = redact_serde_message(&err);
        assert!(!m.contains("4111") && !m.contains("Ana"), "{m}");
        assert_eq!(m, "invalid type: string \"…\", expected a map");
    }

    #[test]
    fn unknown_names_are_shown_only_when_plain() {
        let m = redact_serde_message("unknown field `emial`, expected one of `email`, `phone`");
        assert_eq!(m, "unknown field `emial`, expected one of `email`, `phone`");
        let m = redact_serde_message(
            "unknown field `4111111111111111`, expected one of `email`, `phone`",
        );
        assert_eq!(m, "unknown field `…`, expected one of `email`, `phone`");
        let m = redact_serde_message("unknown field `a`b 4111111111111111`, there are no fields");
        assert_eq!(m, "unknown field `…`, there are no fields");
        let m = redact_serde_message("unknown variant `ana@x.mx`, expected `minor` or `major`");
        assert_eq!(m, "unknown variant `…`, expected `minor` or `major`");
    }

    #[test]
    fn a_body_sent_as_a_json_string_is_not_echoed() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code, reason = "only parsed")]
        struct Body {
            amount: f64,
        }
        let raw = br#""{\"amount\":1500,\"email\":\"ana@x.mx\"}""#;
        let de = &mut serde_json::Deserializer::from_slice(raw);
        let e = serde_path_to_error::deserialize::<_, Body>(de).unwrap_err();
        let err = parse_error(e);
        let body = err.body();
        assert!(!body.error.message.contains("ana@x.mx"), "{}", body.error.message);
        assert!(body.error.message.starts_with("Invalid JSON body: invalid type: string"));
    }

    #[test]
    fn a_card_number_as_a_key_is_not_repeated_in_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code, reason = "only parsed")]
        struct Body {
            amount: f64,
            metadata: Option<std::collections::BTreeMap<String, u8>>,
        }
        for raw in [
            &br#"{"amount": 1, "4111111111111111": 1}"#[..],
            br#"{"amount": 1, "4111-1111-1111-1111": 1}"#,
            br#"{"amount": 1, "metadata": {"4111111111111111": "x"}}"#,
        ] {
            let de = &mut serde_json::Deserializer::from_slice(raw);
            let e = serde_path_to_error::deserialize::<_, Body>(de).unwrap_err();
            let err = parse_error(e);
            let text = serde_json::to_string(err.body()).unwrap();
            assert!(!text.contains("1111"), "{text}");
        }
        assert!(!is_plain_name("4111-1111-1111-1111"));
        assert!(!is_plain_name("55-1234-5678"));
        assert!(is_plain_name("card_last4"));
    }

    #[test]
    fn nul_escapes_are_found_but_an_escaped_backslash_is_not_one() {
        assert!(has_nul_escape(br#"{"email":"a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"email":"\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"note":"\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"email":"a@b.mx"}"#));
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
