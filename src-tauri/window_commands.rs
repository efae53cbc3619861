// The window's commands: the one list, in one file that three places
// include, so that they cannot drift apart:
// - `build.rs` hands the names to Tauri's app manifest, so that each
//   command needs a permission;
// - `window_main.rs` hands the functions to `tauri::generate_handler!`;
// - `tests/window_commands.rs` checks that the capability
//   (`capabilities/default.json`) grants exactly `allow-NAME` for each, and
//   that the page (`ui/`) calls exactly these.
// To add a command: its name here, its function in `window_main.rs`, its
// permission in the capability (the test says which is missing).

/// Calls `$then![name, …]` with every window command.
#[allow(unused_macros)]
macro_rules! window_commands {
    ($then:ident) => {
        $then![
            history,
            mark_read,
            mark_all_read,
            delete_entry,
            clear_history,
            reconnect,
            reset_resume_point,
            trust_certificate,
            pause,
            resume,
            status,
            login_state,
            get_settings,
            save_settings,
            test_connection,
            open_link,
            close_window,
            start_tray,
            appearance,
            unsubscribe
        ]
    };
}

/// The names of the commands in a list.
#[allow(unused_macros)]
macro_rules! command_names {
    ($($command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}
