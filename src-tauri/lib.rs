//! SSE Tray: a desktop client for Server-Sent Events push servers.
pub mod sse;
