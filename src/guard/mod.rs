//! Who may do what, and how much: subscribe tokens, allowed origins, size and rate limits.
//! Pure checks; the Worker shell supplies the clock, the secrets and the request.

mod limits;
mod origins;
mod rate;
mod token;

pub use limits::Limits;
pub use origins::AllowedOrigins;
pub use rate::RateWindow;
pub use token::{issue_token, verify_token, TokenError};
