//! The store under the real app (`ssetray run --headless`): resuming after a
//! crash, replays, a corrupt database.

mod common;

use std::io::Write;

use common::*;

fn stored_ids(home: &AppHome) -> Vec<u64> {
    home.history()
        .iter()
        .filter_map(|entry| entry["event_id"].as_str()?.parse().ok())
        .collect()
}

#[test]
fn kill_9_and_restart_resumes_with_last_event_id_without_loss_or_duplicates() {
    let port = free_port();
    let _server = start_script("flask_generator.py", port, &[("EVENT_INTERVAL", "0.01")]);
    let home = AppHome::new();
    home.set("server_url", &format!("http://127.0.0.1:{port}/stream"));
    let mut app = home.spawn(&["run", "--headless"]);
    wait_until("events stored", || stored_ids(&home).len() >= 30);
    app.proc.signal("KILL");
    app.wait_exit();
    let before = stored_ids(&home);
    let last = *before.last().unwrap();

    let app = home.spawn(&["run", "--headless"]);
    wait_until("more events stored", || {
        stored_ids(&home).len() >= before.len() + 30
    });
    drop(app);
    let after = stored_ids(&home);
    // Nothing lost, nothing twice: exactly 1, 2, 3, ... in order.
    let expected: Vec<u64> = (1..=after.len() as u64).collect();
    assert_eq!(after, expected);
    let seen: Vec<Option<String>> = serde_json::from_str(&http_get(port, "/ids-seen")).unwrap();
    assert_eq!(seen[0], None);
    assert_eq!(seen[1].as_deref(), Some(last.to_string().as_str()));
}

#[test]
fn a_server_replaying_old_ids_stores_each_event_once() {
    // This server ignores Last-Event-ID and replays from the start on every
    // connection, then ends the stream.
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"retry: 100\n\n");
        for n in 1..=5 {
            let _ = stream
                .write_all(format!("id: {n}\nevent: message\ndata: event {n}\n\n").as_bytes());
        }
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    wait_until("three connections", || server.connections() >= 3);
    drop(app);
    assert_eq!(stored_ids(&home), vec![1, 2, 3, 4, 5]);
    assert!(server
        .request(2)
        .to_ascii_lowercase()
        .contains("last-event-id: 5"));
}

#[test]
fn a_corrupt_database_is_moved_aside_and_the_app_still_runs() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"id: 1\ndata: fresh start\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    std::fs::create_dir_all(home.database().parent().unwrap()).unwrap();
    std::fs::write(home.database(), vec![0x42u8; 8192]).unwrap();
    let app = home.spawn(&["run", "--headless"]);
    let stderr = app.wait_stderr("moved to").join("\n");
    assert!(stderr.contains("damaged"), "{stderr}");
    wait_until("the event stored", || stored_ids(&home) == vec![1]);
    drop(app);
    let folder = home.database().parent().unwrap().to_path_buf();
    let kept: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "the damaged file is kept for inspection");
    assert_eq!(std::fs::read(kept[0].path()).unwrap(), vec![0x42u8; 8192]);
}

#[test]
fn listen_does_not_touch_the_store_unless_asked() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"id: 1\ndata: x\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    let (code, _, _) = home.run(&["listen", &server.url(), "--max-events", "1"]);
    assert_eq!(code, 0);
    assert!(!home.database().exists());
    let (code, _, _) = home.run(&["listen", &server.url(), "--max-events", "1", "--store"]);
    assert_eq!(code, 0);
    assert_eq!(stored_ids(&home), vec![1]);
}

#[test]
fn history_mark_read_and_config_from_the_command_line() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"event: notification\ndata: {\"count\": 4}\n\ndata: hello\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    let (code, _, stderr) = home.run(&["config", "set", "server_url", "javascript:alert(1)"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`server_url`") && stderr.contains("http"),
        "{stderr}"
    );
    let (_, path, _) = home.run(&["config", "path"]);
    assert!(
        !std::path::Path::new(path.trim()).exists(),
        "nothing invalid was saved"
    );
    home.set("server_url", &server.url());
    let (_, url, _) = home.run(&["config", "get", "server_url"]);
    assert_eq!(url.trim(), server.url());
    let (code, _, _) = home.run(&["listen", &server.url(), "--max-events", "2", "--store"]);
    assert_eq!(code, 0);
    let (_, unread, _) = home.run(&["history", "--unread", "--json"]);
    assert_eq!(unread.lines().count(), 2);
    let (code, _, _) = home.run(&["mark-read"]);
    assert_eq!(code, 0);
    let (_, unread, _) = home.run(&["history", "--unread", "--json"]);
    assert_eq!(unread.lines().count(), 0);
    let (code, _, stderr) = home.run(&["mark-read", "999"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn every_command_has_help() {
    let home = AppHome::new();
    for command in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["listen", "--help"],
        vec!["history", "--help"],
        vec!["mark-read", "--help"],
        vec!["config", "--help"],
        vec!["demo-server", "--help"],
        vec!["window", "--help"],
    ] {
        let (code, stdout, _) = home.run(&command);
        assert_eq!(code, 0, "{command:?}");
        assert!(stdout.contains("Exit codes"), "{command:?}: {stdout}");
    }
}

#[test]
fn the_demo_server_plays_a_login_and_messages() {
    let home = AppHome::new();
    let port = free_port();
    let _demo = home.spawn(&[
        "demo-server",
        "--port",
        &port.to_string(),
        "--interval-ms",
        "20",
    ]);
    wait_for_port(port);
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = home.spawn(&["listen", &url, "--json", "--max-events", "8"]);
    let events: Vec<_> = (0..8).map(|_| client.next_event()).collect();
    let login: serde_json::Value =
        serde_json::from_str(events[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(login["type"], "scan_qr_code");
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(login["extra"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let kinds: Vec<_> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"notification".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"message".to_string()), "{kinds:?}");
}

#[test]
fn mark_read_from_the_cli_goes_through_the_running_app_and_its_count_follows() {
    let (send, rounds) = std::sync::mpsc::channel::<u32>();
    let rounds = std::sync::Mutex::new(Some(rounds));
    let server = FaultServer::start(move |_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let Some(rounds) = rounds.lock().expect("lock").take() else {
            hold(stream);
            return;
        };
        for n in rounds {
            let round = format!(
                "id: n{n}\nevent: notification\ndata: {{\"count\": 4}}\n\nid: m{n}\ndata: message {n}\n\n"
            );
            if stream.write_all(round.as_bytes()).is_err() {
                return;
            }
        }
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let _app = home.spawn(&["run", "--headless"]);
    let unread = || {
        let (code, stdout, _) = home.run(&["status", "--json"]);
        (code == 0)
            .then(|| serde_json::from_str::<serde_json::Value>(&stdout).ok())
            .flatten()
            .and_then(|status| status["unread"].as_u64())
    };
    wait_until("the app answering", || unread().is_some());
    wait_until("connected", || server.connections() >= 1);
    for n in 0..5 {
        send.send(n).expect("send");
        wait_until("5 unread", || unread() == Some(5));
        let (code, _, stderr) = home.run(&["mark-read"]);
        assert_eq!(code, 0, "{stderr}");
        wait_until("0 unread", || unread() == Some(0));
    }
    // One entry by id, through the app too.
    send.send(9).expect("send");
    wait_until("5 unread", || unread() == Some(5));
    let message = home
        .history()
        .iter()
        .find(|entry| entry["data"] == "message 9")
        .and_then(|entry| entry["id"].as_i64())
        .expect("the message");
    let (code, _, stderr) = home.run(&["mark-read", &message.to_string()]);
    assert_eq!(code, 0, "{stderr}");
    wait_until("4 unread", || unread() == Some(4));
    let (code, _, stderr) = home.run(&["mark-read", "999999"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn listen_store_goes_through_the_running_app_and_writes_directly_when_it_does_not_run() {
    let followed = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        hold(stream);
    });
    let other = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(
            b"id: 1\nevent: notification\ndata: {\"count\": 3}\n\nid: 2\ndata: second\n\n",
        );
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &followed.url());
    let mut app = home.spawn(&["run", "--headless"]);
    let unread = || {
        let (code, stdout, _) = home.run(&["status", "--json"]);
        (code == 0)
            .then(|| serde_json::from_str::<serde_json::Value>(&stdout).ok())
            .flatten()
            .and_then(|status| status["unread"].as_u64())
    };
    wait_until("the app answering", || unread() == Some(0));
    let url = format!("{}?token=tok-777", other.url());
    let (code, out, err) = home.run(&["listen", &url, "--store", "--max-events", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    // The app's engine stored them, so its count follows at once.
    assert_eq!(unread(), Some(4));
    let stored = home.history();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["data"], "second");
    assert!(stored.iter().all(|entry| entry["server"]
        .as_str()
        .is_some_and(|server| server.ends_with("?token=***"))));
    app.proc.signal("TERM");
    assert_eq!(app.wait_exit(), 0);
    // Without the app: into the store directly; a replay is stored once.
    let (code, _, err) = home.run(&["listen", &url, "--store", "--max-events", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(home.history().len(), 2);
}

#[test]
fn without_a_display_the_app_says_so_in_one_sentence() {
    let home = AppHome::new();
    let output = home
        .command()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("ssetray");
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 1, "{said}");
    assert!(lines[0].contains("there is no display here"), "{said}");
    assert!(lines[0].contains("ssetray run --headless"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}
