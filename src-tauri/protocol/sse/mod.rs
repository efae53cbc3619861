//! Server-Sent Events, as the WHATWG HTML Standard defines them.
//!
//! Three layers, each usable alone:
//! - [`parser`]: bytes to events ("Interpreting an event stream").
//! - [`connection`]: one HTTP response checked and read through the parser.
//! - [`client`]: the `EventSource` duties on top: reconnecting, `retry`,
//!   `Last-Event-ID`, 204 meaning stop, and finding dead connections.
//! - [`trust`]: which server certificates are trusted (the system's CAs,
//!   an extra CA file, or one pinned certificate).
//!
//! This module knows the protocol and nothing of what events mean: logins and
//! notifications are the `feed` module's business.

pub mod client;
pub mod connection;
pub mod parser;
pub mod trust;

pub use client::{Backoff, ClientConfig, ConnectionState, Control, Update};
pub use parser::{Item, Limits, Parser, SseEvent};
