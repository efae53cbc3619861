//! The baseline for the memory benchmark: a bare Tauri 2 app that, like a
//! tray app, keeps running after its window is closed. Built and measured
//! by `scripts/bench-memory.sh` beside SSE Tray, the same way.

fn main() {
    let app = tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("index.html".into()),
            )
            .title("Bare Tauri")
            .build()?;
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, event| {
            // Stay alive with no window, as a tray app must.
            if let tauri::RunEvent::ExitRequested {
                api, code: None, ..
            } = event
            {
                api.prevent_exit();
            }
        }),
        Err(error) => {
            eprintln!("bare-tauri: {error}");
            std::process::exit(1);
        }
    }
}
