//! A pay-in assess body, as the origin parses it: JSON into the wire type,
//! then validation and normalisation into a `Transaction`. Nothing may
//! panic, and normalising is idempotent: what a transaction writes back as
//! a request reads back as the same transaction.
#![no_main]

use clausum_core::{transaction::Transaction, wire::AssessRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<AssessRequest>(data) else { return };
    let Ok(tx) = Transaction::from_wire(&req) else { return };
    let again = Transaction::from_wire(&tx.to_wire()).expect("a normalised request is valid");
    assert_eq!(again, tx, "normalising twice changed the transaction");
    // What is stored is serialised; it must serialise.
    serde_json::to_vec(&tx.to_wire()).expect("serialises");
});
