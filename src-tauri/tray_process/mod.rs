//! The `ssetray` binary: the tray process's main loop, the command line
//! that talks to it (or, when it does not run, to the files directly), the
//! built-in demo server, and the start-up helpers both share.

pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod demo;
pub mod terminal;
