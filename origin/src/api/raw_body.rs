//! A JSON request body kept as the bytes received, for the inbound webhook
//! endpoints: a signature covers the raw bytes, so nothing may parse (and
//! re-serialise) them before the signature is checked.

use std::marker::PhantomData;

use clausum_core::wire::ErrorCode;
use poem::{Request, RequestBody};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaMediaType, MetaRequest, Registry},
    types::Type,
};

use crate::error::ApiError;

/// Largest inbound webhook or ingested event body: 256 KiB.
pub const MAX_INBOUND_BYTES: usize = 256 * 1024;

/// The raw bytes of a JSON body of at most [`MAX_INBOUND_BYTES`] (larger
/// answers 413), documented with `T`'s schema. The content type is not
/// checked: providers label their JSON in different ways, and the bytes are
/// authenticated (or parsed strictly) by the handler.
#[derive(Debug)]
pub struct RawJson<T> {
    /// The bytes as received.
    pub bytes: bytes::Bytes,
    _schema: PhantomData<fn() -> T>,
}

impl<'a, T: Type> ApiExtractor<'a> for RawJson<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        _req: &'a Request,
        body: &mut RequestBody,
        _opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bytes =
            body.take()?.into_bytes_limit(MAX_INBOUND_BYTES).await.map_err(|e| match e {
                poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("Request body is larger than {MAX_INBOUND_BYTES} bytes."),
                ),
                _ => ApiError::new(ErrorCode::ValidationError, "Could not read the request body."),
            })?;
        Ok(RawJson { bytes, _schema: PhantomData })
    }
}
