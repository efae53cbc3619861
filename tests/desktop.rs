//! The desktop parts, under a real X server (Xvfb) and a private D-Bus
//! session bus, both started and stopped here.
#![cfg(feature = "desktop")]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// A private X display and session bus for one test.
struct Desktop {
    display: String,
    bus_address: String,
    _xvfb: Proc,
    _bus: Proc,
}

impl Desktop {
    fn start() -> Desktop {
        let number = (90..400)
            .find(|n| !std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists())
            .expect("a free display number");
        let display = format!(":{number}");
        let xvfb = Proc::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args([&display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_until("the X server", || {
            Command::new("xdpyinfo")
                .env("DISPLAY", &display)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        });
        let mut bus = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut address = String::new();
        let stdout = bus.child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut address)
            .expect("bus address");
        Desktop {
            display,
            bus_address: address.trim().to_string(),
            _xvfb: xvfb,
            _bus: bus,
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("NO_AT_BRIDGE", "1");
        command
    }

    fn window_ids(&self, name: &str) -> Vec<String> {
        let output = self
            .command("xdotool")
            .args(["search", "--name", name])
            .output()
            .expect("xdotool");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&folder).expect("screenshot folder");
        let path = folder.join(format!("{name}.png"));
        let status = self
            .command("import")
            .args(["-window", "root"])
            .arg(&path)
            .status()
            .expect("import");
        assert!(status.success());
        path
    }
}

fn binary(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ssetray")).with_file_name(name)
}

#[test]
fn the_tray_process_links_neither_gtk_nor_webkit() {
    let output = Command::new("ldd")
        .arg(binary("ssetray"))
        .output()
        .expect("ldd");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(libraries.contains("libc.so"), "ldd works: {libraries}");
    for heavy in [
        "webkit",
        "gtk",
        "gdk",
        "soup",
        "javascriptcore",
        "appindicator",
    ] {
        assert!(
            !libraries.contains(heavy),
            "ssetray links {heavy}:\n{libraries}"
        );
    }
    let output = Command::new("ldd")
        .arg(binary("ssetray-window"))
        .output()
        .expect("ldd");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(
        libraries.contains("webkit2gtk"),
        "the window does: {libraries}"
    );
}

#[test]
fn the_window_opens_shows_the_ui_and_exits_when_closed() {
    let desktop = Desktop::start();
    let home = AppHome::new();
    let mut command = desktop.command(binary("ssetray-window").to_str().expect("path"));
    command
        .env("XDG_CONFIG_HOME", home.dir.path().join("config"))
        .env("XDG_DATA_HOME", home.dir.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut window = Proc::spawn("ssetray-window", &mut command);
    wait_until("the SSE Tray window", || {
        !desktop.window_ids("^SSE Tray$").is_empty()
    });
    // Let the page render, then check it is not a blank window: the page's
    // own script replaced the placeholder text.
    std::thread::sleep(Duration::from_secs(2));
    let shot = desktop.screenshot("window");
    let colours = Command::new("convert")
        .arg(&shot)
        .args(["-format", "%k", "info:"])
        .output()
        .expect("convert");
    let distinct: u64 = String::from_utf8_lossy(&colours.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(
        distinct > 2,
        "the window shows something ({distinct} colours)"
    );
    let id = desktop.window_ids("^SSE Tray$")[0].clone();
    desktop
        .command("xdotool")
        .args(["windowclose", &id])
        .status()
        .expect("xdotool");
    wait_until("the window process to exit", || {
        matches!(window.child.try_wait(), Ok(Some(_)))
    });
}
