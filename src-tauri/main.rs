//! `ssetray`: the tray app and the headless command line, one binary.
use clap::Parser;
use ssetray::cli::{self, Cli, Command, RunArgs};

fn main() {
    let args = Cli::parse();
    cli::init_logging();
    let result = match args.command {
        None => cli::run_headless(RunArgs::default()),
        Some(Command::Run(run)) => cli::run_headless(run),
        Some(Command::Listen(listen)) => cli::listen(listen),
        Some(Command::History(history)) => cli::history(history),
        Some(Command::MarkRead(mark)) => cli::mark_read(mark),
        Some(Command::Config(config)) => cli::config(config),
        Some(Command::DemoServer(demo)) => cli::demo_server(demo),
    };
    if let Err(failure) = result {
        eprintln!("ssetray: {}", failure.message);
        std::process::exit(failure.code);
    }
}
