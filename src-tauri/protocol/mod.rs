//! The wire: what a server sends and what the app makes of it, and the
//! rules every layer above shares: which addresses may be used (the URL
//! policy), what time it is (the clock) and when to stop (the shutdown).
//! Nothing in this layer knows about storage, settings or the desktop.

pub mod clock;
pub mod feed;
pub mod shutdown;
pub mod sse;
pub mod url_policy;
