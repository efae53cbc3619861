//! Secrets: header values in a real Secret Service (GNOME Keyring on a
//! private session bus, started here) or, without one, in a settings file
//! that is the user's alone; tokens in the stream URL never logged, shown
//! or stored.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::*;

/// A private session bus with GNOME Keyring's Secret Service on it, its
/// login keyring made and unlocked with a password given on stdin.
struct Keyring {
    bus_address: String,
    home: tempfile::TempDir,
    _bus: Proc,
    _keyring: Proc,
}

impl Keyring {
    fn start() -> Keyring {
        let home = tempfile::tempdir().expect("keyring home");
        let (bus, bus_address) = private_session_bus();
        let mut keyring = Proc::spawn(
            "gnome-keyring-daemon",
            Command::new("gnome-keyring-daemon")
                .args(["--foreground", "--unlock", "--components=secrets"])
                .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
                .env("HOME", home.path())
                .env("XDG_DATA_HOME", home.path().join("data"))
                .env("XDG_RUNTIME_DIR", home.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let mut stdin = keyring.child.stdin.take().expect("stdin");
        stdin.write_all(b"test password").expect("password");
        drop(stdin);
        let keyring = Keyring {
            bus_address,
            home,
            _bus: bus,
            _keyring: keyring,
        };
        // Ready when the login keyring is made and is the default: the
        // daemon answers on the bus a moment before that.
        // Asked without touching org.freedesktop.secrets itself until our
        // daemon owns it: a call to the name would have the bus start
        // another keyring daemon (D-Bus activation), which wins the name
        // with no login keyring unlocked.
        wait_until("the keyring daemon on the bus", || keyring.owns_the_name());
        wait_until("the login keyring", || {
            keyring.default_keyring().contains("/collection/")
        });
        keyring
    }

    /// Whether a daemon owns org.freedesktop.secrets now (asked of the bus,
    /// which starts nothing for it).
    fn owns_the_name(&self) -> bool {
        let output = Command::new("gdbus")
            .args([
                "call",
                "--session",
                "--dest",
                "org.freedesktop.DBus",
                "--object-path",
                "/org/freedesktop/DBus",
                "--method",
                "org.freedesktop.DBus.NameHasOwner",
                "org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .expect("gdbus");
        String::from_utf8_lossy(&output.stdout).contains("true")
    }

    /// The default keyring's object path as the Secret Service answers it
    /// (`/` while there is none).
    fn default_keyring(&self) -> String {
        let output = Command::new("gdbus")
            .args([
                "call",
                "--session",
                "--dest",
                "org.freedesktop.secrets",
                "--object-path",
                "/org/freedesktop/secrets",
                "--method",
                "org.freedesktop.Secret.Service.ReadAlias",
                "default",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .expect("gdbus");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Run `secret-tool` against this keyring; its stdout if it succeeded.
    fn secret_tool(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("secret-tool")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("HOME", self.home.path())
            .output()
            .expect("secret-tool");
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn command(&self, home: &AppHome) -> Command {
        let mut command = home.command();
        command.env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address);
        command
    }

    fn run(&self, home: &AppHome, args: &[&str]) -> (i32, String, String) {
        let output = self.command(home).args(args).output().expect("ssetray");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A stream that sends one event and holds the connection; each request
/// head is recorded.
fn one_event_server() -> FaultServer {
    FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(format!("id: {index}\ndata: hello {index}\n\n").as_bytes());
        hold(stream);
    })
}

fn settings_file(home: &AppHome) -> std::path::PathBuf {
    home.dir.path().join("config/ssetray/settings.toml")
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

const TOKEN: &str = "Bearer s3cret-token-4711";

#[test]
fn header_values_live_in_a_real_secret_service_never_in_the_file_or_the_log() {
    let keyring = Keyring::start();
    let server = one_event_server();
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let (code, _, err) = keyring.run(&home, &["config", "set", "headers.Authorization", TOKEN]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Secret Service"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");

    // The file names the header; the keyring holds its value.
    let file = std::fs::read_to_string(settings_file(&home)).expect("settings");
    assert!(!file.contains("s3cret"), "{file}");
    assert!(
        file.contains("secret_headers") && file.contains("Authorization"),
        "{file}"
    );
    assert_eq!(mode(&settings_file(&home)), 0o600);
    assert_eq!(
        keyring
            .secret_tool(&[
                "lookup",
                "application",
                "ssetray",
                "header",
                "Authorization"
            ])
            .as_deref(),
        Some(TOKEN)
    );
    // `config get` prints the file without the value, the key with it.
    let (_, all, _) = keyring.run(&home, &["config", "get"]);
    assert!(!all.contains("s3cret"), "{all}");
    let (_, one, _) = keyring.run(&home, &["config", "get", "headers.Authorization"]);
    assert_eq!(one.trim(), TOKEN);

    // The app sends it, and logs nothing of it even at debug level.
    let mut command = keyring.command(&home);
    command
        .args(["run", "--headless"])
        .env("SSETRAY_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let app = Running::new(Proc::spawn("ssetray", &mut command));
    wait_until("the event stored", || home.history().len() == 1);
    let request = server.request(0).to_ascii_lowercase();
    assert!(
        request.contains(&format!("authorization: {}", TOKEN.to_ascii_lowercase())),
        "{request}"
    );
    let (code, status, _) = keyring.run(&home, &["status", "--json"]);
    assert_eq!(code, 0);
    assert!(!status.contains("s3cret"), "{status}");
    assert!(status.contains("\"settings_problem\":null"), "{status}");

    // Another value, saved while the app runs: applied, and the keyring's
    // entry replaced rather than a second one added.
    let (code, _, err) = keyring.run(
        &home,
        &[
            "config",
            "set",
            "headers.Authorization",
            "Bearer second-4712",
        ],
    );
    assert_eq!(code, 0, "{err}");
    wait_until("the new header sent", || {
        server.connections() >= 2
            && server
                .request(server.connections() - 1)
                .contains("second-4712")
    });
    let found = keyring
        .secret_tool(&["search", "--all", "application", "ssetray"])
        .unwrap_or_default();
    assert_eq!(found.matches("second-4712").count(), 1, "{found}");
    assert!(!found.contains("s3cret"), "{found}");

    // Removing the header removes its entry.
    let (code, _, err) = keyring.run(&home, &["config", "set", "headers", "{}"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        keyring.secret_tool(&[
            "lookup",
            "application",
            "ssetray",
            "header",
            "Authorization"
        ]),
        None
    );
    let mut app = app;
    app.proc.signal("TERM");
    assert_eq!(app.wait_exit(), 0);
    let log = app.drain_stderr().join("\n");
    assert!(log.contains("DEBUG") || log.contains("INFO"), "{log}");
    assert!(
        !log.contains("s3cret") && !log.contains("second-4712"),
        "{log}"
    );
}

#[test]
fn without_a_secret_service_the_value_stays_in_a_file_only_the_user_reads() {
    let server = one_event_server();
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let (code, _, err) = home.run(&["config", "set", "headers.Authorization", TOKEN]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("settings file"), "{err}");
    let file = std::fs::read_to_string(settings_file(&home)).expect("settings");
    assert!(file.contains(TOKEN), "{file}");
    assert!(!file.contains("secret_headers"), "{file}");
    assert_eq!(mode(&settings_file(&home)), 0o600);
    assert_eq!(mode(settings_file(&home).parent().unwrap()), 0o700);
    let mut app = home.spawn(&["run", "--headless"]);
    wait_until("the event stored", || home.history().len() == 1);
    assert!(server.request(0).contains(TOKEN));
    app.proc.signal("TERM");
    assert_eq!(app.wait_exit(), 0);
    let log = app.drain_stderr().join("\n");
    assert!(!log.contains("s3cret"), "{log}");
    assert_eq!(mode(&home.database()), 0o600);
}

#[test]
fn a_header_kept_in_a_keyring_that_is_gone_is_said_and_the_app_runs() {
    let server = one_event_server();
    let home = AppHome::new();
    home.set("server_url", &server.url());
    {
        let keyring = Keyring::start();
        let (code, _, err) = keyring.run(&home, &["config", "set", "headers.Authorization", TOKEN]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("Secret Service"), "kept in the keyring: {err}");
    }
    // The keyring is gone: the app connects without the header and says why.
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("the event stored", || home.history().len() == 1);
    assert!(!server.request(0).contains("s3cret"));
    let (_, status, _) = home.run(&["status"]);
    assert!(
        status
            .contains("problem: The header Authorization is kept in the desktop's Secret Service"),
        "{status}"
    );
    // The file still names it: nothing the user saved was lost.
    let file = std::fs::read_to_string(settings_file(&home)).expect("settings");
    assert!(file.contains("secret_headers"), "{file}");
}

#[test]
fn a_token_in_the_stream_url_is_never_logged_shown_or_stored() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(format!("id: {index}\ndata: hello {index}\n\n").as_bytes());
        // The first connection drops, so that the app logs a reconnect.
        if index > 0 {
            hold(stream);
        }
    });
    let home = AppHome::new();
    let secret = "tok-SECRET-9931";
    home.set(
        "server_url",
        &format!("{}?channel=news&access_token={secret}", server.url()),
    );
    let mut command = home.command();
    command
        .args(["run", "--headless"])
        .env("SSETRAY_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut app = Running::new(Proc::spawn("ssetray", &mut command));
    wait_until("two events stored", || home.history().len() == 2);
    assert!(
        server.request(0).contains(secret),
        "the token is still sent"
    );
    let (_, status, _) = home.run(&["status", "--json"]);
    assert!(!status.contains(secret), "{status}");
    assert!(status.contains("access_token=***"), "{status}");
    let (_, history, _) = home.run(&["history", "--json"]);
    assert!(!history.contains(secret), "{history}");
    app.proc.signal("TERM");
    assert_eq!(app.wait_exit(), 0);
    let log = app.drain_stderr().join("\n");
    assert!(
        log.contains("access_token=***") || !log.contains("access_token"),
        "{log}"
    );
    assert!(!log.contains(secret), "{log}");
    // Forgetting the resume point without the app finds it under the
    // redacted address, and says that address, not the token.
    let (code, _, err) = home.run(&["reset-resume"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("access_token=***") && !err.contains(secret),
        "{err}"
    );
    let _again = home.spawn(&["run", "--headless"]);
    let before = server.connections();
    wait_until("connected again", || server.connections() > before);
    let request = server.request(before).to_ascii_lowercase();
    assert!(!request.contains("last-event-id"), "{request}");
    drop(_again);
    // Not in the database's bytes either (its WAL included).
    for name in ["history.db", "history.db-wal"] {
        let path = home.database().with_file_name(name);
        if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(secret), "{name} holds the token");
        }
    }
}
