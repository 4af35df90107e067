//! Wire types of the Partner API: what integrators send and receive.

pub mod assess;
pub mod edge;
pub mod error;

pub use assess::*;
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
