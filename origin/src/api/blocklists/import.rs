//! Bulk import of blocklist entries from CSV or JSON lines.

use std::{collections::HashSet, sync::Arc};

use clausum_core::wire::ErrorCode;
use poem::{Request, RequestBody};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions, Object,
    registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry},
};
use serde::Serialize;

use super::entry::NewEntry;
use crate::{
    api::common::audit_row, auth::Principal, error::ApiError, payload::redact_serde_message,
    state::AppState, store::BlocklistRow, time::now_ms,
};

/// Rejected rows listed in a report at most (the count is always exact).
pub const MAX_REPORTED_REJECTIONS: usize = 1_000;

/// The body of an import: CSV or JSON lines.
#[derive(Debug)]
pub struct ImportBody {
    format: Format,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Csv,
    JsonLines,
}

/// A row that was not imported.
#[derive(Object, Serialize, Debug, Clone, PartialEq)]
pub struct RejectedRow {
    /// 1-based line number in the uploaded text.
    pub line: u64,
    /// Why.
    pub error: String,
}

/// What an import did.
#[derive(Object, Serialize, Debug, Clone)]
pub struct ImportReport {
    /// Data rows read (header excluded).
    pub rows: u64,
    /// Entries added.
    pub imported: u64,
    /// Rows whose type and value were already listed (or repeated in the file).
    pub duplicates: u64,
    /// Rows refused.
    pub rejected_count: u64,
    /// The refused rows with their reasons (the first 1,000).
    pub rejected: Vec<RejectedRow>,
}

const CSV_TYPES: [&str; 2] = ["text/csv", "application/csv"];
const JSONL_TYPES: [&str; 3] =
    ["application/x-ndjson", "application/jsonl", "application/x-jsonlines"];

impl<'a> ApiExtractor<'a> for ImportBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(_registry: &mut Registry) {}

    fn request_meta() -> Option<MetaRequest> {
        let text = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
        Some(MetaRequest {
            description: Some("CSV with a header row, or one JSON entry object per line."),
            content: vec![
                MetaMediaType { content_type: "text/csv", schema: text() },
                MetaMediaType { content_type: "application/x-ndjson", schema: text() },
            ],
            required: true,
        })
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let essence = req
            .content_type()
            .and_then(|ct| ct.parse::<mime::Mime>().ok())
            .map(|m| m.essence_str().to_ascii_lowercase());
        let format = match essence.as_deref() {
            Some(t) if CSV_TYPES.contains(&t) => Format::Csv,
            Some(t) if JSONL_TYPES.contains(&t) => Format::JsonLines,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Send `Content-Type: text/csv` or `application/x-ndjson`.",
                )
                .into());
            }
        };
        let state = req.data::<Arc<AppState>>().expect("state is installed");
        let limit = state.max_import_bytes;
        let raw = body.take()?.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("Import bodies are at most {limit} bytes; split the file."),
            ),
            _ => ApiError::new(ErrorCode::ValidationError, "Could not read the request body."),
        })?;
        let text = String::from_utf8(raw.to_vec()).map_err(|_| {
            ApiError::new(ErrorCode::ValidationError, "The body is not UTF-8 text.")
        })?;
        Ok(ImportBody { format, text })
    }
}

/// Parses every row, stores the good ones in one transaction, reports the rest.
pub async fn run(
    state: &AppState,
    p: &Principal,
    body: ImportBody,
) -> Result<ImportReport, ApiError> {
    let now = now_ms();
    let parsed = match body.format {
        Format::Csv => parse_csv(&body.text)?,
        Format::JsonLines => parse_jsonl(&body.text),
    };
    let mut report = ImportReport {
        rows: 0,
        imported: 0,
        duplicates: 0,
        rejected_count: 0,
        rejected: Vec::new(),
    };
    let mut seen = HashSet::new();
    let mut rows: Vec<BlocklistRow> = Vec::new();
    for (line, entry) in parsed {
        report.rows += 1;
        match entry.and_then(|e| {
            e.into_row(p.org(), &p.actor(), now).map_err(|e| e.body().error.message.clone())
        }) {
            Ok(row) => {
                if seen.insert((row.list_type.clone(), row.value.clone())) {
                    rows.push(row);
                } else {
                    report.duplicates += 1;
                }
            }
            Err(error) => {
                report.rejected_count += 1;
                if report.rejected.len() < MAX_REPORTED_REJECTIONS {
                    report.rejected.push(RejectedRow { line, error });
                }
            }
        }
    }
    let summary = serde_json::json!({
        "rows": report.rows, "candidates": rows.len(), "rejected": report.rejected_count,
    });
    let audit =
        audit_row(p, "blocklist.import", "blocklist_entry", None, None::<&()>, Some(&summary), now);
    let inserted: HashSet<String> =
        state.store.import_blocklist_entries(&rows, &audit).await?.into_iter().collect();
    report.imported = inserted.len() as u64;
    report.duplicates += (rows.len() - inserted.len()) as u64;
    let added: Vec<BlocklistRow> = rows.into_iter().filter(|r| inserted.contains(&r.id)).collect();
    state.apply_blocklist_rows(&added);
    Ok(report)
}

type Parsed = Vec<(u64, Result<NewEntry, String>)>;

/// CSV with a header naming the columns (`list_type` and `value` required).
fn parse_csv(text: &str) -> Result<Parsed, ApiError> {
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| {
            ApiError::new(ErrorCode::ValidationError, "The CSV header row is unreadable.")
        })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(t), Some(v)) = (col("list_type"), col("value")) else {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "The CSV header must name the columns `list_type` and `value` (optional: severity, reason, flow_scope, expires_at, source).",
        ));
    };
    let optional = |name: &str| col(name);
    let (sev, reason, scope, exp, src) = (
        optional("severity"),
        optional("reason"),
        optional("flow_scope"),
        optional("expires_at"),
        optional("source"),
    );
    let mut out = Vec::new();
    for record in reader.records() {
        let (line, entry) = match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let get = |i: Option<usize>| {
                    i.and_then(|i| r.get(i)).filter(|s| !s.is_empty()).map(str::to_owned)
                };
                let entry = match (get(Some(t)), get(Some(v))) {
                    (Some(list_type), Some(value)) => Ok(NewEntry {
                        list_type,
                        value,
                        severity: get(sev),
                        source: get(src),
                        reason: get(reason),
                        flow_scope: get(scope),
                        expires_at: get(exp),
                    }),
                    _ => Err("`list_type` and `value` are required".to_owned()),
                };
                (line, entry)
            }
            Err(e) => (e.position().map_or(0, |p| p.line()), Err("malformed CSV row".to_owned())),
        };
        out.push((line, entry));
    }
    Ok(out)
}

/// One JSON object per non-blank line.
fn parse_jsonl(text: &str) -> Parsed {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let entry = serde_json::from_str::<NewEntry>(l).map_err(|e| {
                format!("invalid JSON entry: {}", redact_serde_message(&e.to_string()))
            });
            (i as u64 + 1, entry)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_line_numbers() {
        let rows = parse_csv(
            "list_type,value,severity\nemail,a@b.co,flag\n,missing-type\nip_address,1.2.3.4\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.as_ref().unwrap().severity.as_deref(), Some("flag"));
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.is_err());
        assert_eq!(rows[2].1.as_ref().unwrap().severity, None);
    }

    #[test]
    fn csv_without_the_required_header_is_refused() {
        assert!(parse_csv("type,val\nemail,a@b.co\n").is_err());
    }

    #[test]
    fn jsonl_errors_never_echo_values() {
        let rows = parse_jsonl(
            "{\"list_type\":\"email\",\"value\":\"a@b.co\"}\n\n{\"list_type\": 5, \"value\": \"secret@x.co\"}\n",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].0, 3);
        let err = rows[1].1.as_ref().unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
