//! The wire: what a server sends and what the app makes of it, and the two
//! rules every layer above shares: which addresses may be used (the URL
//! policy) and what time it is (the clock). Nothing in this layer knows
//! about storage, settings or the desktop.

pub mod clock;
pub mod feed;
pub mod sse;
pub mod url_policy;
