//! Wire types of the Partner API: what integrators send and receive.
//! Pay-ins in [`assess`], payouts in [`payout`]; both are answered with
//! [`AssessResponse`].

pub mod assess;
pub mod cors;
pub mod edge;
pub mod error;
pub mod payout;
pub mod request_id;

pub use assess::*;
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use payout::*;
