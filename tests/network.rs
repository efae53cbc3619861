//! Never deaf, with real network faults: the app runs in a network
//! namespace of its own, joined by a veth pair to a server's namespace
//! (both made here, as root, and removed after); links go down and up,
//! routes and addresses go and come. A stand-in logind and NetworkManager
//! on a private system bus send the sleep and network signals.
//!
//! Only addresses inside these namespaces are used (10.77.0.0/24 on the
//! veth pair, and loopback).

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;

const SERVER_IP: &str = "10.77.0.1";
const CLIENT_IP: &str = "10.77.0.2";
const PORT: &str = "8000";

/// Run `ip` with `args`; panics with its words if it fails.
fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("ip");
    assert!(
        output.status.success(),
        "ip {}: {} (the network tests need root, for network namespaces)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// A server namespace and a client namespace joined by a veth pair.
struct Namespaces {
    server: String,
    client: String,
    /// The client's end of the pair, in the client namespace.
    link: &'static str,
}

impl Namespaces {
    fn new() -> Namespaces {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let id = format!(
            "{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        );
        let namespaces = Namespaces {
            server: format!("sst-s-{id}"),
            client: format!("sst-c-{id}"),
            link: "veth-c",
        };
        ip(&["netns", "add", &namespaces.server]);
        ip(&["netns", "add", &namespaces.client]);
        // Made inside the namespaces, so the host's own network never sees
        // a link come or go.
        ip(&[
            "-n",
            &namespaces.server,
            "link",
            "add",
            "veth-s",
            "type",
            "veth",
            "peer",
            "name",
            namespaces.link,
            "netns",
            &namespaces.client,
        ]);
        for (namespace, link, address) in [
            (&namespaces.server, "veth-s", SERVER_IP),
            (&namespaces.client, namespaces.link, CLIENT_IP),
        ] {
            ip(&[
                "-n",
                namespace,
                "addr",
                "add",
                &format!("{address}/24"),
                "dev",
                link,
            ]);
            ip(&["-n", namespace, "link", "set", link, "up"]);
            ip(&["-n", namespace, "link", "set", "lo", "up"]);
        }
        namespaces
    }

    /// `ip` in the client's namespace.
    fn client_ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.client.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// `ip` in the server's namespace.
    fn server_ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.server.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }
}

/// Set a kernel setting of `namespace` alone (`net.*` settings belong to
/// the namespace they are written in).
fn sysctl(namespace: &str, setting: &str) {
    let output = Command::new("ip")
        .args(["netns", "exec", namespace, "sysctl", "-q", "-w", setting])
        .output()
        .expect("sysctl");
    assert!(
        output.status.success(),
        "sysctl {setting} in {namespace}: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for namespace in [&self.server, &self.client] {
            let _ = Command::new("ip")
                .args(["netns", "del", namespace])
                .status();
        }
    }
}

/// `command`, run inside `namespace` with the same environment.
fn inside(namespace: &str, command: &Command) -> Command {
    let mut inside = Command::new("ip");
    inside
        .args(["netns", "exec", namespace])
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            inside.env(key, value);
        }
    }
    inside
}

/// The silent server (one event a connection) inside `namespace`.
fn silent_server(namespace: &str, host: &str, end_first: bool) -> Running {
    let mut server = Command::new(python());
    server
        .arg(repo().join("tests/peers/silent_stream.py"))
        .args([host, PORT, "0", if end_first { "1" } else { "0" }]);
    let mut command = inside(namespace, &server);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let running = Running::new(Proc::spawn("silent_stream.py", &mut command));
    running.wait_stdout("LISTENING");
    running
}

/// The app, headless, inside `namespace`.
fn app_inside(home: &AppHome, namespace: &str, extra_env: &[(&str, &str)]) -> Running {
    let mut app = home.command();
    app.args(["run", "--headless"]);
    for (key, value) in extra_env {
        app.env(key, value);
    }
    let mut command = inside(namespace, &app);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    Running::new(Proc::spawn("ssetray", &mut command))
}

/// The running app's connection state name ("open", "offline", ...).
fn state(home: &AppHome) -> String {
    let (code, out, _) = home.run(&["status", "--json"]);
    if code != 0 {
        return String::new();
    }
    serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|status| status["state"]["state"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn state_text(home: &AppHome) -> String {
    let (_, out, _) = home.run(&["status", "--json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|status| status["state_text"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A connected app in the client namespace, its first event stored.
fn connected(namespaces: &Namespaces) -> (AppHome, Running, Running) {
    let server = silent_server(&namespaces.server, SERVER_IP, false);
    let home = AppHome::new();
    home.set("server_url", &format!("http://{SERVER_IP}:{PORT}/stream"));
    let app = app_inside(&home, &namespaces.client, &[]);
    server.wait_stdout(&format!("CONNECT 1 {CLIENT_IP} -"));
    wait_until("the first event stored", || home.history().len() == 1);
    wait_until("connected", || state(&home) == "open");
    (home, app, server)
}

#[test]
fn a_link_that_goes_down_is_offline_and_its_return_reconnects_at_once() {
    let namespaces = Namespaces::new();
    let (home, app, server) = connected(&namespaces);
    // No RST, no FIN: the server never learns. Only hearing the link can
    // tell the client before TCP gives up (40 s, beyond this test's
    // patience).
    namespaces.client_ip(&["link", "set", namespaces.link, "down"]);
    wait_until("offline", || state(&home) == "offline");
    assert_eq!(state_text(&home), "Offline: waiting for the network");
    namespaces.client_ip(&["link", "set", namespaces.link, "up"]);
    // Back at once, resuming after event 1, however long the backoff had
    // grown.
    server.wait_stdout(&format!("CONNECT 2 {CLIENT_IP} 1"));
    wait_until("connected again", || state(&home) == "open");
    wait_until("the second event stored", || home.history().len() == 2);
    drop(app);
}

#[test]
fn a_route_removed_and_restored() {
    let namespaces = Namespaces::new();
    let (home, _app, server) = connected(&namespaces);
    namespaces.client_ip(&["route", "del", "10.77.0.0/24", "dev", namespaces.link]);
    wait_until("offline", || state(&home) == "offline");
    namespaces.client_ip(&[
        "route",
        "add",
        "10.77.0.0/24",
        "dev",
        namespaces.link,
        "src",
        CLIENT_IP,
    ]);
    server.wait_stdout(&format!("CONNECT 2 {CLIENT_IP} 1"));
    wait_until("connected again", || state(&home) == "open");
}

#[test]
fn a_new_address_is_a_new_connection_from_it() {
    let namespaces = Namespaces::new();
    let (home, _app, server) = connected(&namespaces);
    // The connection is bound to .2; once .2 is gone it is dead, though
    // nothing on it says so.
    namespaces.client_ip(&[
        "addr",
        "del",
        &format!("{CLIENT_IP}/24"),
        "dev",
        namespaces.link,
    ]);
    namespaces.client_ip(&["addr", "add", "10.77.0.3/24", "dev", namespaces.link]);
    server.wait_stdout("CONNECT 2 10.77.0.3 1");
    wait_until("connected again", || state(&home) == "open");
    wait_until("the second event stored", || home.history().len() == 2);
}

/// Namespaces for a return the kernel is slow to carry: the client's
/// neighbour (ARP) resolution gives up after 3 probes 250 ms apart instead
/// of 1 s apart, and the client's link has no IPv6, so that no address of
/// its own comes back a moment after the link (the return is one change).
fn namespaces_for_a_slow_return() -> Namespaces {
    let namespaces = Namespaces::new();
    sysctl(
        &namespaces.client,
        &format!("net.ipv6.conf.{}.disable_ipv6=1", namespaces.link),
    );
    sysctl(
        &namespaces.client,
        &format!("net.ipv4.neigh.{}.retrans_time_ms=250", namespaces.link),
    );
    namespaces
}

/// In a client's log from line `from` on: where a try that started after
/// the network came found no route (a try already under way then may fail
/// too, but proves nothing about the return).
fn no_route_after_a_change(lines: &[String], from: usize) -> Option<usize> {
    let position = |from: usize, text: &str| {
        lines
            .get(from..)?
            .iter()
            .position(|line| line.contains(text))
            .map(|at| from + at)
    };
    let change = position(from, "the network changed (Came)")?;
    let tried = position(change, "Connecting…")?;
    position(tried, "No route to host")
}

/// The server's end of the link goes down (no RST: the server never
/// learns) until the client, trying, finds its neighbour entry for the
/// server failed ("No route to host"). The link comes back with the server
/// deaf to ARP for a moment, so the client's first try after the return
/// finds no route as well: what a neighbour entry still failing from the
/// tries made while the link was down does, here made certain rather than
/// left to the kernel's timers. Then the server answers ARP again, which
/// nothing in the client's namespace hears: only the client trying again
/// soon, without a further change, brings it back. `client` (the app or
/// `listen`, connected once to `server`) must be back on the server
/// resuming after event 1; `offline` says when the client says it is
/// offline.
fn back_though_the_first_try_after_the_return_found_no_route(
    namespaces: &Namespaces,
    server: &Running,
    client: &Running,
    offline: impl Fn() -> bool,
) {
    namespaces.server_ip(&["link", "set", "veth-s", "down"]);
    wait_until("offline, the neighbour entry failed", || {
        offline()
            && client
                .drain_stderr()
                .iter()
                .any(|line| line.contains("No route to host"))
    });
    sysctl(&namespaces.server, "net.ipv4.conf.veth-s.arp_ignore=8");
    let before_the_return = client.drain_stderr().len();
    namespaces.server_ip(&["link", "set", "veth-s", "up"]);
    wait_until("a try after the return that found no route", || {
        no_route_after_a_change(&client.drain_stderr(), before_the_return).is_some()
    });
    sysctl(&namespaces.server, "net.ipv4.conf.veth-s.arp_ignore=0");
    server.wait_stdout(&format!("CONNECT 2 {CLIENT_IP} 1"));
    let lines = client.drain_stderr();
    let failed = no_route_after_a_change(&lines, before_the_return).expect("seen before");
    let changes: Vec<&String> = lines[failed..]
        .iter()
        .filter(|line| line.contains("the network changed"))
        .collect();
    assert!(
        changes.is_empty(),
        "the client must come back with no further change, yet heard {changes:?}"
    );
}

#[test]
fn the_app_is_back_though_its_first_try_after_the_return_found_no_route() {
    let namespaces = namespaces_for_a_slow_return();
    let (home, app, server) = connected(&namespaces);
    back_though_the_first_try_after_the_return_found_no_route(&namespaces, &server, &app, || {
        state(&home) == "offline"
    });
    wait_until("connected again", || state(&home) == "open");
    wait_until("the second event stored", || home.history().len() == 2);
}

#[test]
fn listen_hears_the_network_as_the_app_does() {
    let namespaces = namespaces_for_a_slow_return();
    let server = silent_server(&namespaces.server, SERVER_IP, false);
    let home = AppHome::new();
    let mut listen = home.command();
    listen.args(["listen", &format!("http://{SERVER_IP}:{PORT}/stream")]);
    let mut command = inside(&namespaces.client, &listen);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let listen = Running::new(Proc::spawn("ssetray listen", &mut command));
    listen.wait_stderr("hearing routing changes");
    server.wait_stdout(&format!("CONNECT 1 {CLIENT_IP} -"));
    listen.wait_stdout("hello 1");
    back_though_the_first_try_after_the_return_found_no_route(
        &namespaces,
        &server,
        &listen,
        || {
            listen
                .drain_stderr()
                .iter()
                .any(|line| line == "ssetray: Offline: waiting for the network")
        },
    );
    listen.wait_stdout("hello 2");
}

/// A private bus used as the system bus, with the stand-in logind and
/// NetworkManager on it.
struct SystemBus {
    address: String,
    _dir: tempfile::TempDir,
    _bus: Proc,
    services: Proc,
    lines: std::sync::mpsc::Receiver<String>,
}

impl SystemBus {
    fn start() -> SystemBus {
        let dir = tempfile::tempdir().expect("bus dir");
        let address = format!(
            "unix:path={}",
            dir.path().join("system_bus_socket").display()
        );
        let bus = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--address", &address])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let mut services = Proc::spawn(
            "system_services.py",
            Command::new(python())
                .arg(repo().join("tests/peers/system_services.py"))
                .env("DBUS_SYSTEM_BUS_ADDRESS", &address)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let lines = lines(services.child.stdout.take().expect("stdout"));
        let ready = lines.recv_timeout(PATIENCE).expect("the services start");
        assert_eq!(ready, "READY");
        SystemBus {
            address,
            _dir: dir,
            _bus: bus,
            services,
            lines,
        }
    }

    fn send(&mut self, word: &str) {
        use std::io::Write;
        let stdin = self.services.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{word}").expect("send");
        stdin.flush().expect("flush");
        assert_eq!(
            self.lines.recv_timeout(PATIENCE).expect("sent"),
            format!("SENT {word}")
        );
    }
}

#[test]
fn network_manager_and_logind_signals_reconnect_at_once() {
    // A namespace with loopback alone: nothing else in it changes, so
    // every reconnection here is the signals' doing.
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let namespace = format!(
        "sst-l-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::SeqCst)
    );
    ip(&["netns", "add", &namespace]);
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    let _remove = Remove(namespace.clone());
    ip(&["-n", &namespace, "link", "set", "lo", "up"]);
    let server = silent_server(&namespace, "127.0.0.1", true);
    let mut bus = SystemBus::start();
    let home = AppHome::new();
    home.set("server_url", &format!("http://127.0.0.1:{PORT}/stream"));
    let app = app_inside(
        &home,
        &namespace,
        &[("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)],
    );
    app.wait_stderr("hearing routing changes, NetworkManager, sleep through logind");
    // The first stream ends after asking for 300 s between tries.
    server.wait_stdout("CONNECT 1 127.0.0.1 -");
    wait_until("retrying", || state(&home) == "retrying");
    // NetworkManager says "connected": the wait ends now.
    bus.send("connected");
    server.wait_stdout("CONNECT 2 127.0.0.1 1");
    wait_until("connected", || state(&home) == "open");
    // The machine woke up: the open connection is suspect and replaced.
    bus.send("resume");
    server.wait_stdout("CONNECT 3 127.0.0.1 2");
    wait_until("connected", || state(&home) == "open");
    wait_until("three events stored", || home.history().len() == 3);
    assert!(
        !server
            .drain_stdout()
            .iter()
            .any(|line| line.starts_with("CONNECT 4")),
        "one reconnection a signal"
    );
}

#[test]
fn without_logind_or_network_manager_it_says_what_it_falls_back_to() {
    let server = FaultServer::start(|_, stream| {
        use std::io::Write;
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let mut command = home.command();
    command
        .args(["run", "--headless"])
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!(
                "unix:path={}",
                home.dir.path().join("no-system-bus").display()
            ),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let app = Running::new(Proc::spawn("ssetray", &mut command));
    let lines = app.wait_stderr("hearing routing changes, no NetworkManager");
    let said: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("hearing"))
        .collect();
    assert_eq!(said.len(), 1, "said once: {said:?}");
    assert!(
        said[0].contains("sleep by comparing clocks every 10 s (no logind)"),
        "{said:?}"
    );
}
