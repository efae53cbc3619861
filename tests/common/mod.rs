//! Shared helpers for the integration tests: real servers started and
//! stopped by the tests, on free ports on 127.0.0.1, and the `ssetray` binary
//! driven as a user would.
#![allow(dead_code)]

pub mod replay;
pub mod tls;
pub mod wine;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen; a bound for a
/// hung test, never a measurement.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The Python of the test peers' venv (made by scripts/peers-venv.sh once).
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(python) = std::env::var("SSETRAY_TEST_PYTHON") {
            return python;
        }
        let output = Command::new("bash")
            .arg(repo().join("scripts/peers-venv.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/peers-venv.sh");
        assert!(output.status.success(), "scripts/peers-venv.sh failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .expect("the venv's python")
            .trim()
            .to_string()
    })
}

/// A child process killed when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, command: &mut Command) -> Proc {
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot start {name}: {error}. Run the README's test command, which installs it."
            )
        });
        Proc {
            child,
            name: name.to_string(),
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Redis {
    pub port: u16,
    proc: Proc,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Redis {
        let proc = Proc::spawn(
            "redis-server",
            Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(Stdio::null()),
        );
        wait_for_port(port);
        Redis { port, proc }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn stop(mut self) {
        self.proc.kill();
    }

    /// `PUBLISH channel message`, as seed 001 does from redis-cli.
    pub fn publish(&self, channel: &str, message: &str) -> i64 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis");
        let mut command = format!("*3\r\n$7\r\nPUBLISH\r\n${}\r\n{channel}\r\n", channel.len());
        command.push_str(&format!("${}\r\n{message}\r\n", message.len()));
        stream.write_all(command.as_bytes()).expect("send to redis");
        let mut reply = String::new();
        BufReader::new(stream)
            .read_line(&mut reply)
            .expect("redis reply");
        reply.trim().trim_start_matches(':').parse().unwrap_or(-1)
    }
}

/// A Flask-SSE app under gunicorn with a gevent worker.
pub struct FlaskSse {
    pub port: u16,
    proc: Proc,
}

impl FlaskSse {
    pub fn start(redis: &Redis) -> FlaskSse {
        FlaskSse::start_on(redis, free_port())
    }

    pub fn start_on(redis: &Redis, port: u16) -> FlaskSse {
        let proc = Proc::spawn(
            "gunicorn",
            Command::new(python())
                .args([
                    "-m",
                    "gunicorn",
                    "-k",
                    "gevent",
                    "-w",
                    "1",
                    "--no-control-socket",
                ])
                .args([
                    "-b",
                    &format!("127.0.0.1:{port}"),
                    "--chdir",
                    "tests/peers",
                    "flask_sse_app:app",
                ])
                .current_dir(repo())
                .env("REDIS_URL", redis.url())
                .stderr(Stdio::null()),
        );
        wait_for_port(port);
        FlaskSse { port, proc }
    }

    pub fn stream_url(&self) -> String {
        format!("http://127.0.0.1:{}/stream", self.port)
    }

    /// Wait until `count` clients listen on `channel`.
    pub fn wait_for_subscribers(&self, channel: &str, count: u64) {
        wait_until(&format!("{count} subscribers on {channel}"), || {
            http_get(self.port, &format!("/subscribers?channel={channel}"))
                .trim()
                .parse::<u64>()
                .is_ok_and(|n| n >= count)
        });
    }

    /// `sse.publish(data, type=..., id=..., retry=..., channel=...)`.
    pub fn publish(&self, body: serde_json::Value) {
        let reply = http_post_json(self.port, "/publish", &body.to_string());
        assert!(reply.contains("ok"), "publish failed: {reply}");
    }

    pub fn stop(mut self) {
        self.proc.kill();
    }
}

/// A plain HTTP GET; the body ("" when no answer came).
pub fn http_get(port: u16, path: &str) -> String {
    http_answer(port, "GET", path, None, "")
}

pub fn http_post_json(port: u16, path: &str, body: &str) -> String {
    http_answer(port, "POST", path, Some("application/json"), body)
}

pub fn http_post_form(port: u16, path: &str, body: &str) -> String {
    http_answer(
        port,
        "POST",
        path,
        Some("application/x-www-form-urlencoded"),
        body,
    )
}

fn http_answer(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> String {
    http_request(port, method, path, content_type, body)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// One HTTP/1.1 request to 127.0.0.1:`port` on a connection of its own
/// (`Connection: close`): the answer's body, read whole (de-chunked);
/// `Ok(None)` when the server closed the connection without a byte of
/// answer, an error when it could not be asked at all.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> std::io::Result<Option<String>> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    if response.is_empty() {
        return Ok(None);
    }
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = response.get(split + 4..).unwrap_or(&[]);
    // Some servers (tauri-driver's proxy among them) send their answers
    // in chunks: read them whole, or a good answer would look like none.
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok(Some(String::from_utf8_lossy(&body).into_owned()))
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|window| window == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..line_end]);
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        let data = &rest[line_end + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        body.extend_from_slice(&data[..size]);
        rest = data[size..].strip_prefix(b"\r\n").unwrap_or(&data[size..]);
    }
    body
}

/// A Python peer run with `python tests/peers/NAME.py --port P`.
pub fn start_script(script: &str, port: u16, env: &[(&str, &str)]) -> Proc {
    let mut command = Command::new(python());
    command
        .arg(format!("tests/peers/{script}"))
        .args(["--port", &port.to_string()])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let proc = Proc::spawn(script, &mut command);
    wait_for_port(port);
    proc
}

/// The sse-starlette app under uvicorn, paced by `env`.
pub fn start_starlette(port: u16, env: &[(&str, &str)]) -> Proc {
    let mut command = std::process::Command::new(python());
    command
        .args([
            "-m",
            "uvicorn",
            "--app-dir",
            "tests/peers",
            "starlette_app:app",
        ])
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let server = Proc::spawn("uvicorn", &mut command);
    wait_for_port(port);
    server
}

/// An isolated home for the app: its own config and data folders.
pub struct AppHome {
    pub dir: tempfile::TempDir,
}

impl AppHome {
    pub fn new() -> AppHome {
        AppHome {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ssetray"));
        command
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.path())
            .env("HOME", self.dir.path())
            // No session bus unless a test brings its own: a test must never
            // reach the developer's keyring or notifications.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", self.dir.path().join("no-bus").display()),
            )
            .env("SSETRAY_LOG", "info");
        command
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data/ssetray/history.db")
    }

    /// Run a command to its end; (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.command().args(args).output().expect("run ssetray");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub fn set(&self, key: &str, value: &str) {
        config_set(|args| self.run(args), key, value);
    }

    /// Stored history, oldest first.
    pub fn history(&self) -> Vec<serde_json::Value> {
        stored_history(|args| self.run(args))
    }

    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut command = self.command();
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Running::new(Proc::spawn("ssetray", &mut command))
    }
}

/// `config set KEY VALUE` through `run` (which runs one `ssetray` command
/// of some build to its end: exit code, stdout, stderr).
pub fn config_set(run: impl Fn(&[&str]) -> (i32, String, String), key: &str, value: &str) {
    let (code, _, stderr) = run(&["config", "set", key, value]);
    assert_eq!(code, 0, "config set {key}: {stderr}");
}

/// The stored history through `run`, oldest first.
pub fn stored_history(run: impl Fn(&[&str]) -> (i32, String, String)) -> Vec<serde_json::Value> {
    let (code, stdout, stderr) = run(&["history", "--json", "--limit", "100000"]);
    assert_eq!(code, 0, "history: {stderr}");
    let mut entries: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("history JSON"))
        .collect();
    entries.reverse();
    entries
}

/// A running `ssetray`, its output read line by line.
pub struct Running {
    pub proc: Proc,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    pub stderr_seen: Arc<Mutex<Vec<String>>>,
    pub stdout_seen: Arc<Mutex<Vec<String>>>,
}

impl Running {
    pub fn new(mut proc: Proc) -> Running {
        let stdout = lines(proc.child.stdout.take().expect("stdout"));
        let stderr = lines(proc.child.stderr.take().expect("stderr"));
        Running {
            proc,
            stdout,
            stderr,
            stderr_seen: Arc::default(),
            stdout_seen: Arc::default(),
        }
    }

    pub fn next_line(&self) -> String {
        self.stdout
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no output line; stderr so far: {:?}", self.drain_stderr()))
    }

    pub fn next_event(&self) -> serde_json::Value {
        let line = self.next_line();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }

    /// Wait for a stderr line containing `text`; every line seen so far.
    pub fn wait_stderr(&self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            {
                let seen = self.stderr_seen.lock().expect("lock");
                if seen.iter().any(|line| line.contains(text)) {
                    return seen.clone();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => self.stderr_seen.lock().expect("lock").push(line),
                Err(_) => panic!(
                    "stderr never said {text:?}: {:?}",
                    self.stderr_seen.lock().expect("lock")
                ),
            }
        }
    }

    /// Wait for a stdout line containing `text` (for a monitor's output).
    pub fn wait_stdout(&self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            {
                let seen = self.stdout_seen.lock().expect("lock");
                if seen.iter().any(|line| line.contains(text)) {
                    return seen.clone();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => self.stdout_seen.lock().expect("lock").push(line),
                Err(_) => panic!("stdout never said {text:?}"),
            }
        }
    }

    pub fn drain_stdout(&self) -> Vec<String> {
        let mut seen = self.stdout_seen.lock().expect("lock");
        while let Ok(line) = self.stdout.try_recv() {
            seen.push(line);
        }
        seen.clone()
    }

    pub fn drain_stderr(&self) -> Vec<String> {
        let mut seen = self.stderr_seen.lock().expect("lock");
        while let Ok(line) = self.stderr.try_recv() {
            seen.push(line);
        }
        seen.clone()
    }

    /// Wait for the process to end by itself; its exit code.
    pub fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.proc.child.try_wait() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "ssetray did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub fn lines(source: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A scripted HTTP server for faults no real server produces on demand.
/// Each connection's request head is recorded, and `script` writes the
/// response (or does not).
pub struct FaultServer {
    pub host: &'static str,
    pub port: u16,
    pub requests: Arc<Mutex<Vec<String>>>,
    /// When each connection was accepted, in order: before its script
    /// ran, so before the server could answer or close it.
    accepted: Arc<Mutex<Vec<Instant>>>,
}

impl FaultServer {
    pub fn start(script: impl Fn(usize, &mut TcpStream) + Send + Sync + 'static) -> FaultServer {
        FaultServer::start_with_head(move |index, _, stream| script(index, stream))
    }

    /// As [`FaultServer::start`], the script also given the request head.
    pub fn start_with_head(
        script: impl Fn(usize, &str, &mut TcpStream) + Send + Sync + 'static,
    ) -> FaultServer {
        FaultServer::start_at("127.0.0.1", script)
    }

    /// As [`FaultServer::start_with_head`], on another loopback address.
    pub fn start_at(
        host: &'static str,
        script: impl Fn(usize, &str, &mut TcpStream) + Send + Sync + 'static,
    ) -> FaultServer {
        let listener = TcpListener::bind((host, 0)).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let accepted: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let seen = requests.clone();
        let arrivals = accepted.clone();
        let script = Arc::new(script);
        std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                arrivals.lock().expect("lock").push(Instant::now());
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                seen.lock().expect("lock").push(head.clone());
                let script = script.clone();
                std::thread::spawn(move || script(index, &head, &mut stream));
            }
        });
        FaultServer {
            host,
            port,
            requests,
            accepted,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}/stream", self.host, self.port)
    }

    pub fn request(&self, index: usize) -> String {
        self.requests
            .lock()
            .expect("lock")
            .get(index)
            .cloned()
            .unwrap_or_default()
    }

    pub fn connections(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }

    /// Once `count` connections came, the time between each and the next.
    pub fn gaps_between_connections(&self, count: usize) -> Vec<Duration> {
        wait_until(&format!("{count} connections"), || {
            self.accepted.lock().expect("lock").len() >= count
        });
        let accepted = self.accepted.lock().expect("lock");
        accepted[..count]
            .windows(2)
            .map(|pair| pair[1].duration_since(pair[0]))
            .collect()
    }
}

pub const STREAM_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";

/// Hold a connection open without sending anything more.
pub fn hold(stream: &mut TcpStream) {
    let mut sink = [0u8; 64];
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let _ = stream.read(&mut sink);
}

/// A session bus of the test's own (no desktop's services on it); the
/// daemon and its address.
pub fn private_session_bus() -> (Proc, String) {
    let mut bus = Proc::spawn(
        "dbus-daemon",
        Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut address = String::new();
    let stdout = bus.child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut address)
        .expect("bus address");
    (bus, address.trim().to_string())
}

/// A private X display and session bus for one test.
pub struct Desktop {
    pub display: String,
    pub bus_address: String,
    _xvfb: Proc,
    _bus: Proc,
}

impl Desktop {
    pub fn start() -> Desktop {
        // Xvfb picks a free display itself and writes its number to stdout,
        // so tests running side by side never share one. `-noreset`: by
        // default an X server resets when its last client leaves (as the
        // readiness check below does), and refuses connections while it
        // does; a window started then failed to open the display (about 1
        // connection in 100 right after a disconnect, measured).
        let mut xvfb = Proc::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "1024x768x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut number = String::new();
        let stdout = xvfb.child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut number)
            .expect("display number");
        let display = format!(":{}", number.trim());
        wait_until("the X server", || {
            Command::new("xdpyinfo")
                .env("DISPLAY", &display)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        });
        let (bus, bus_address) = private_session_bus();
        Desktop {
            display,
            bus_address,
            _xvfb: xvfb,
            _bus: bus,
        }
    }

    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("NO_AT_BRIDGE", "1");
        command
    }

    /// Call a D-Bus method on the private session bus; gdbus's output.
    pub fn gdbus(&self, service: &str, path: &str, method: &str, args: &[&str]) -> String {
        let output = self
            .command("gdbus")
            .args([
                "call",
                "--session",
                "--dest",
                service,
                "--object-path",
                path,
                "--method",
                method,
                "--",
            ])
            .args(args)
            .output()
            .expect("gdbus");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The tray icon's pixels as gdbus prints them.
    pub fn icon_pixmap(&self, service: &str) -> String {
        self.gdbus(
            service,
            "/StatusNotifierItem",
            "org.freedesktop.DBus.Properties.Get",
            &["org.kde.StatusNotifierItem", "IconPixmap"],
        )
    }

    /// The tray icon's smallest (16 px) pixmap as ARGB bytes, read from the
    /// bus, or `None` when it cannot be read yet.
    pub fn icon_pixels(&self, service: &str) -> Option<Vec<u8>> {
        let printed = self.icon_pixmap(service);
        // gdbus prints `[(16, 16, [byte 0x00, 0xff, ...]), (22, 22, ...`.
        let start = printed.find("[byte ")? + "[byte ".len();
        let end = start + printed[start..].find(']')?;
        printed[start..end]
            .split(", ")
            .map(|byte| u8::from_str_radix(byte.trim().trim_start_matches("0x"), 16).ok())
            .collect()
    }

    /// Whether the tray icon shows exactly the badge for `unread`, drawn
    /// as connected: compared pixel for pixel with the app's own drawing.
    pub fn icon_shows(&self, service: &str, unread: u64) -> bool {
        self.icon_pixels(service).is_some_and(|pixels| {
            pixels
                == ssetray::desktop::badge::render(16, unread, ssetray::ipc::Connected::All).argb()
        })
    }

    /// Start our minimal StatusNotifierWatcher; its output lines
    /// ("REGISTERED <service>" for each tray icon), once it is ready.
    pub fn start_tray_host(&self) -> (Proc, mpsc::Receiver<String>) {
        let mut watcher = Proc::spawn(
            "sni_watcher.py",
            self.command(python())
                .arg(repo().join("tests/peers/sni_watcher.py"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let output = lines(watcher.child.stdout.take().expect("stdout"));
        // An icon already waiting for a host registers the moment the
        // watcher owns its name, which may be before the watcher prints
        // READY: such lines are handed on, not mistaken for it.
        let mut early = Vec::new();
        loop {
            let line = output.recv_timeout(PATIENCE).expect("watcher ready");
            if line == "READY" {
                break;
            }
            early.push(line);
        }
        let (forward, rest) = mpsc::channel();
        std::thread::spawn(move || {
            for line in early.into_iter().chain(output.iter()) {
                if forward.send(line).is_err() {
                    return;
                }
            }
        });
        (watcher, rest)
    }
}
