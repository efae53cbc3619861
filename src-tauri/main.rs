//! `ssetray`: the tray app and the headless command line, one binary.
// On Windows no console opens for the tray (see `attach_parent_console`).
#![cfg_attr(windows, windows_subsystem = "windows")]
use clap::Parser;
use ssetray::tray_process::app::{self, AppOptions};
use ssetray::tray_process::cli::{self, Cli, Command};

fn main() {
    ssetray::core::allocator::give_back_freed_memory();
    #[cfg(windows)]
    ssetray::tray_process::bootstrap::attach_parent_console();
    let args = Cli::parse();
    ssetray::tray_process::bootstrap::init_logging();
    let result = match args.command {
        None => app::run(AppOptions {
            headless: false,
            hidden: args.hidden,
        }),
        Some(Command::Run(run)) => app::run(AppOptions {
            headless: run.headless,
            hidden: run.hidden || args.hidden,
        }),
        Some(Command::Window(window)) => cli::window(window),
        Some(Command::Listen(listen)) => cli::listen(listen),
        Some(Command::History(history)) => cli::history(history),
        Some(Command::MarkRead(mark)) => cli::mark_read(mark),
        Some(Command::Config(config)) => cli::config(config),
        Some(Command::DemoServer(demo)) => cli::demo_server(demo),
        Some(Command::Status(status)) => cli::status(status),
        Some(Command::ResetResume(args)) => cli::reset_resume(args),
        Some(Command::Subscribe(args)) => cli::subscribe(args),
        Some(Command::Subscriptions(args)) => cli::subscriptions(args),
        Some(Command::Unsubscribe(args)) => cli::unsubscribe(args),
        Some(Command::Quit) => cli::quit(),
    };
    if let Err(failure) = result {
        // A message may quote what a server sent.
        eprintln!(
            "ssetray: {}",
            ssetray::tray_process::terminal::for_terminal(&failure.message)
        );
        std::process::exit(failure.code);
    }
}
