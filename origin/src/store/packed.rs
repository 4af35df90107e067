//! Transaction documents stored compressed on SQLite.
//!
//! A row's request and response are most of its bytes (the response about
//! 4 KB when a dozen signals fire, each with its description). Every byte
//! of a row is written twice — to the WAL at commit, then to the database
//! file at checkpoint — and on one disk the checkpoint's sync is what makes
//! commits wait: smaller rows, shorter waits, and more rows to a page. The
//! SQLite group-commit writer therefore stores both documents as BLOBs in
//! LZ4's block format, compressed against [`DICTIONARY`]: typical pay-in
//! and payout documents, so a request's field names and a response's
//! signal descriptions cost a few bytes each. (Plain LZ4 shrinks a typical
//! request by a tenth; with the dictionary, by three quarters.)
//!
//! A BLOB starts with four little-endian bytes: the uncompressed length,
//! with the top bit set when the body was compressed against the
//! dictionary (rows written before it existed have it clear). Rows written
//! elsewhere (reported-only transactions, PostgreSQL, whose TOAST
//! compresses large values itself) keep TEXT. Readers take all three forms
//! through [`PackedText`].

use sqlx::{
    Decode, Postgres, Sqlite, Type, TypeInfo, ValueRef,
    error::BoxDynError,
    postgres::{PgTypeInfo, PgValueRef},
    sqlite::{SqliteTypeInfo, SqliteValueRef},
};

/// The dictionary BLOBs are compressed against: a pay-in and a payout
/// request and response of the shapes assess stores, with every built-in
/// signal's code and description wording. Frozen: stored rows need these
/// exact bytes to be read back (a test holds them to their hash), so a
/// better dictionary would be a second one with a flag of its own.
pub const DICTIONARY: &[u8] = include_bytes!("pack_dict_v1.txt");

/// Set in the length header of a BLOB compressed against [`DICTIONARY`].
const WITH_DICTIONARY: u32 = 1 << 31;

/// Compresses `text` into the stored BLOB form.
pub fn pack(text: &str) -> Vec<u8> {
    let len = u32::try_from(text.len())
        .ok()
        .filter(|n| n & WITH_DICTIONARY == 0)
        .expect("documents are far below 2 GiB (the request body limit)");
    let body = lz4_flex::block::compress_with_dict(text.as_bytes(), DICTIONARY);
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(len | WITH_DICTIONARY).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A transaction row's request and response as the SQLite writer thread
/// stores them ([`pack`]ed).
#[derive(Debug, Clone)]
pub struct PackedDocs {
    /// The request.
    pub request: Vec<u8>,
    /// The response, when the row has one.
    pub response: Option<Vec<u8>>,
}

impl PackedDocs {
    /// Packs `row`'s documents.
    pub fn of(row: &super::TransactionRow) -> PackedDocs {
        PackedDocs { request: pack(&row.request), response: row.response.as_deref().map(pack) }
    }

    /// Packs `row`'s documents and drops their text from it: the writer
    /// thread then never frees kilobytes it does not read.
    pub fn take(row: &mut super::TransactionRow) -> PackedDocs {
        let packed = PackedDocs::of(row);
        row.request = String::new();
        row.response = None;
        packed
    }
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
    let (header, body) =
        bytes.split_first_chunk::<4>().ok_or("packed text shorter than its header")?;
    let header = u32::from_le_bytes(*header);
    let len = (header & !WITH_DICTIONARY) as usize;
    if len > body.len().saturating_mul(MAX_RATIO) {
        return Err("packed text claims an impossible length".into());
    }
    let text = if header & WITH_DICTIONARY != 0 {
        lz4_flex::block::decompress_with_dict(body, len, DICTIONARY)?
    } else {
        lz4_flex::decompress(body, len)?
    };
    if text.len() != len {
        return Err("packed text is shorter than its header says".into());
    }
    Ok(String::from_utf8(text)?)
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

    /// A stored request as assess writes it (normalised, PAN-free).
    const REQUEST: &str = r#"{"amount":89900.0,"currency":"MXN","amount_unit":"minor","transaction_type":"payment","email":"ana.lopez@outlook.com","phone":"+5215598765432","customer_id":"cus_88213","order_id":"ORD-2024-55102","payment_method":{"type":"card","card_bin":"520082","card_last4":"1881","card_country":"MX","card_brand":"mastercard"},"device":{"ip":"189.203.14.77","fingerprint":"fp_3c9e1a77","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1","timezone":"America/Monterrey"},"behavior":{"session_duration_ms":31250,"mouse_movements":0,"keyboard_events":41,"copy_paste_events":1},"billing":{"country":"MX","city":"Monterrey","postal_code":"64000"}}"#;

    #[test]
    fn the_dictionary_is_frozen() {
        use sha2::{Digest, Sha256};
        // Rows on disk were compressed against these bytes: changing them
        // makes those rows unreadable.
        assert_eq!(
            hex::encode(Sha256::digest(DICTIONARY)),
            "5e9948423f876ad9e17e161164c2664851641c522c0454bb86a43d4be4e051da"
        );
    }

    #[test]
    fn the_dictionary_shrinks_a_request_well_beyond_plain_lz4() {
        let packed = pack(REQUEST);
        let plain = lz4_flex::compress_prepend_size(REQUEST.as_bytes());
        assert!(packed.len() * 2 < plain.len(), "{} vs {} bytes", packed.len(), plain.len());
        assert_eq!(unpack(&packed).unwrap(), REQUEST);
    }

    #[test]
    fn rows_packed_before_the_dictionary_still_read() {
        let plain = lz4_flex::compress_prepend_size(REQUEST.as_bytes());
        assert_eq!(unpack(&plain).unwrap(), REQUEST);
        // The header tells the forms apart: read without the dictionary,
        // a body compressed against it does not come back.
        let mut unflagged = pack(REQUEST);
        unflagged[3] &= 0x7f;
        assert_ne!(unpack(&unflagged).ok().as_deref(), Some(REQUEST));
    }

    #[test]
    fn a_damaged_blob_is_an_error_not_a_panic() {
        for text in ["{\"decision\":\"approve\"}", REQUEST] {
            let packed = pack(text);
            for cut in [1, 3, packed.len() / 2] {
                assert!(unpack(&packed[..packed.len() - cut]).is_err(), "cut {cut} of {text}");
            }
            let mut longer = packed.clone();
            longer[0] = longer[0].wrapping_add(1);
            assert!(unpack(&longer).is_err(), "a length one more than the text");
        }
        assert!(unpack(&[0xff, 0xff, 0xff, 0x7f, 1]).is_err());
        assert!(unpack(&[0xff, 0xff, 0xff, 0xff, 1]).is_err());
        assert!(unpack(&[0x05, 0, 0, 0x80]).is_err());
    }
}
