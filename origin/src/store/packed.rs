//! Assess responses stored compressed on SQLite.
//!
//! A response is the largest part of a transaction row (about 4 KB when a
//! dozen signals fire, each with its description) and compresses about
//! threefold. Every byte of a row is written twice — to the WAL at commit,
//! then to the database file at checkpoint — and on one disk the
//! checkpoint's sync is what makes commits wait: smaller rows, shorter
//! waits. The SQLite group-commit writer therefore stores the response as a
//! BLOB: LZ4 block format, preceded by the uncompressed length as four
//! little-endian bytes. Rows written elsewhere (reported-only transactions,
//! PostgreSQL, whose TOAST compresses large values itself) keep TEXT.
//! Readers take either through [`PackedText`].

use sqlx::{
    Decode, Postgres, Sqlite, Type, TypeInfo, ValueRef,
    error::BoxDynError,
    postgres::{PgTypeInfo, PgValueRef},
    sqlite::{SqliteTypeInfo, SqliteValueRef},
};

/// Compresses `text` into the stored BLOB form.
pub fn pack(text: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(text.as_bytes())
}

/// Text read from a column that holds it as TEXT or as a [`pack`]ed BLOB
/// (or NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedText(pub Option<String>);

/// The BLOB form back to text. A damaged length cannot make it allocate
/// more than LZ4 could have produced from the bytes there are.
fn unpack(bytes: &[u8]) -> Result<String, BoxDynError> {
    /// LZ4 expands at most about 255 times.
    const MAX_RATIO: usize = 255;
    let (len, body) =
        bytes.split_first_chunk::<4>().ok_or("packed text shorter than its header")?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > body.len().saturating_mul(MAX_RATIO) {
        return Err("packed text claims an impossible length".into());
    }
    Ok(String::from_utf8(lz4_flex::decompress(body, len)?)?)
}

impl Type<Sqlite> for PackedText {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty) || <Vec<u8> as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for PackedText {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(PackedText(None));
        }
        if value.type_info().name() == "BLOB" {
            let bytes = <&[u8] as Decode<Sqlite>>::decode(value)?;
            return Ok(PackedText(Some(unpack(bytes)?)));
        }
        Ok(PackedText(Some(<String as Decode<Sqlite>>::decode(value)?)))
    }
}

impl Type<Postgres> for PackedText {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for PackedText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(PackedText(<Option<String> as Decode<Postgres>>::decode(value)?))
    }
}

impl From<PackedText> for Option<String> {
    fn from(p: PackedText) -> Self {
        p.0
    }
}

impl TryFrom<PackedText> for String {
    type Error = BoxDynError;

    fn try_from(p: PackedText) -> Result<Self, Self::Error> {
        p.0.ok_or_else(|| "unexpected NULL".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_text_round_trips_and_shrinks_repetitive_json() {
        let json = format!(
            "{{\"signal_details\":[{}]}}",
            (0..12)
                .map(|i| format!(
                    "{{\"code\":\"rule_signal_{i}\",\"weight\":4,\"description\":\"Custom rule `rule_0{i}`\"}}"
                ))
                .collect::<Vec<_>>()
                .join(",")
        );
        let packed = pack(&json);
        assert!(packed.len() * 2 < json.len(), "{} of {} bytes", packed.len(), json.len());
        assert_eq!(unpack(&packed).unwrap(), json);
    }

    #[test]
    fn a_damaged_blob_is_an_error_not_a_panic() {
        let mut packed = pack("{\"decision\":\"approve\"}");
        packed.truncate(packed.len() - 3);
        assert!(unpack(&packed).is_err());
        assert!(unpack(&[0xff, 0xff, 0xff, 0x7f, 1]).is_err());
    }
}
