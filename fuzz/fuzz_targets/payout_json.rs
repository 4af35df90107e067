//! A payout assess body: JSON into the wire type, then validation (CLABE,
//! IBAN, SWIFT/BIC, amounts) and normalisation. Nothing may panic, and
//! normalising is idempotent.
#![no_main]

use clausum_core::{transaction::Transaction, wire::PayoutRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<PayoutRequest>(data) else { return };
    let Ok(tx) = Transaction::from_payout_wire(&req) else { return };
    let wire = tx.to_payout_wire().expect("a payout writes back as a payout");
    let again = Transaction::from_payout_wire(&wire).expect("a normalised payout is valid");
    assert_eq!(again, tx, "normalising twice changed the payout");
});
