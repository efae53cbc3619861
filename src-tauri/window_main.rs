//! `ssetray-window`: the on-demand window process.
//!
//! This is the only binary that links Tauri, GTK and WebKit. The tray process
//! starts it when the user opens the window and it exits when the window
//! closes, so none of that weight stays resident all day.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let result = tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("index.html".into()),
            )
            .title("SSE Tray")
            .inner_size(720.0, 560.0)
            .min_inner_size(420.0, 360.0)
            .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("ssetray-window: cannot start the window: {error}");
        std::process::exit(1);
    }
}
