//! The Windows build run under Wine, for tests/windows.rs.
//!
//! Each test gets a Wine prefix of its own (its own registry, Known
//! Folders and wineserver, so its own named pipes), copied from one made
//! once and kept; files are hard links but for the registry, which wineserver
//! rewrites. The exe runs from a folder beside the one-function
//! `bcryptprimitives.dll` that Wine 8 lacks (tests/windows/bcryptprimitives.c).
//! `SSETRAY_WINDOWS_BUILD` names the folder of the cross-built binaries and
//! the installer (scripts/test.sh sets it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::{Proc, Running};

/// Wine's 64-bit loader and server (Debian puts them off PATH).
pub const WINE: &str = "/usr/lib/wine/wine64";
pub const WINESERVER: &str = "/usr/lib/wine/wineserver64";

/// The folder of the Windows build under test.
pub fn build() -> PathBuf {
    let folder = std::env::var_os("SSETRAY_WINDOWS_BUILD").map(PathBuf::from).expect(
        "SSETRAY_WINDOWS_BUILD is not set: run scripts/test.sh, which cross-builds SSE Tray for Windows and sets it",
    );
    assert!(
        folder.join("ssetray.exe").exists(),
        "no ssetray.exe in {}",
        folder.display()
    );
    folder
}

/// Where the prefix template and the stand-in DLL are kept between runs
/// (cargo's folder for integration tests' files).
fn kept() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wine")
}

/// The stand-in DLL, built once a run.
pub fn shim() -> &'static Path {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        std::fs::create_dir_all(kept()).expect("the kept folder");
        let dll = kept().join("bcryptprimitives.dll");
        let source = super::repo().join("tests/windows/bcryptprimitives.c");
        let status = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-O2", "-shared", "-s", "-o"])
            .arg(&dll)
            .arg(&source)
            .arg("-ladvapi32")
            .status()
            .expect("x86_64-w64-mingw32-gcc (Debian's mingw-w64)");
        assert!(
            status.success(),
            "cannot build the bcryptprimitives stand-in"
        );
        dll
    })
}

fn wine_env(command: &mut Command, prefix: &Path, home: &Path) {
    command
        .env("WINEPREFIX", prefix)
        // The prefix's Desktop and Documents link to $HOME: a home of its
        // own keeps the user's untouched.
        .env("HOME", home)
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko, and no menu entries written for Linux.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=;winemenubuilder.exe=d")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DISPLAY");
}

/// The prefix every test's own is copied from: made once, kept between
/// runs (a prefix is some 700 MB; Wine updates a kept one itself when Wine
/// itself was updated).
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let prefix = kept().join("template");
        if prefix.join("system.reg").exists() {
            return prefix;
        }
        let making = kept().join(format!("making-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&making);
        let home = making.join("home");
        std::fs::create_dir_all(&home).expect("home");
        let made = making.join("prefix");
        let mut boot = Command::new(WINE);
        boot.args(["wineboot", "-i"]);
        wine_env(&mut boot, &made, &home);
        let status = boot
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|error| {
                panic!("cannot start {WINE}: {error}. Run the README's test command, which installs wine64.")
            });
        assert!(status.success(), "wineboot failed");
        let mut wait = Command::new(WINESERVER);
        wait.arg("-w");
        wine_env(&mut wait, &made, &home);
        let _ = wait.status();
        let _ = std::fs::remove_dir_all(&prefix);
        std::fs::rename(&made, &prefix).expect("keep the template");
        let _ = std::fs::remove_dir_all(&making);
        prefix
    })
}

/// One test's Windows: a prefix, a home, and the binaries staged with the
/// stand-in DLL. Its wineserver (and every process in it) is ended on drop.
pub struct Wine {
    pub dir: tempfile::TempDir,
    pub prefix: PathBuf,
    pub bin: PathBuf,
    home: PathBuf,
    display: Option<String>,
}

impl Wine {
    pub fn new() -> Wine {
        Wine::booted(None)
    }

    /// A Windows on X display `display` (its desktop started there).
    pub fn with_display(display: &str) -> Wine {
        Wine::booted(Some(display.to_string()))
    }

    fn booted(display: Option<String>) -> Wine {
        let template = template();
        let dir = tempfile::tempdir_in(kept()).expect("temp dir");
        let prefix = dir.path().join("prefix");
        let status = Command::new("cp")
            .arg("-al")
            .arg(template)
            .arg(&prefix)
            .status()
            .expect("cp");
        assert!(status.success(), "cannot copy the Wine prefix");
        for registry in ["system.reg", "user.reg", "userdef.reg"] {
            let copy = prefix.join(registry);
            let _ = std::fs::remove_file(&copy);
            std::fs::copy(template.join(registry), &copy).expect("copy the registry");
        }
        let home = dir.path().join("home");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(&bin).expect("bin");
        let build = build();
        for file in ["ssetray.exe", "ssetray-window.exe"] {
            if build.join(file).exists() {
                std::fs::copy(build.join(file), bin.join(file)).expect("stage the exe");
            }
        }
        std::fs::copy(shim(), bin.join("bcryptprimitives.dll")).expect("stage the DLL");
        let wine = Wine {
            dir,
            prefix,
            bin,
            home,
            display,
        };
        wine.boot();
        wine
    }

    /// Start the prefix's wineserver (kept until the test ends) and its
    /// services, with no output of theirs: whatever starts them hands them
    /// its stdout and stderr, and a test reading a command's output to its
    /// end would wait for them forever.
    fn boot(&self) {
        let mut server = Command::new(WINESERVER);
        server.arg("-p");
        wine_env(&mut server, &self.prefix, &self.home);
        let status = server
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wineserver");
        assert!(status.success(), "wineserver did not start");
        let status = self
            .command("cmd")
            .args(["/c", "exit"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wine");
        assert!(status.success(), "Wine's services did not start");
    }

    /// `program` (a Windows path, or one of Wine's own programs) under this
    /// prefix.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(WINE);
        command.arg(program);
        wine_env(&mut command, &self.prefix, &self.home);
        if let Some(display) = &self.display {
            command.env("DISPLAY", display);
        }
        command.env("SSETRAY_LOG", "info");
        command
    }

    /// `ssetray.exe` under this prefix.
    pub fn ssetray(&self) -> Command {
        self.command(self.bin.join("ssetray.exe"))
    }

    /// Run `ssetray.exe` to its end; (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.output(self.ssetray().args(args))
    }

    /// Run a command to its end; (exit code, stdout, stderr). The output
    /// goes through files, not pipes: a Wine process started meanwhile
    /// (explorer.exe, for the desktop) may inherit and keep them open, and
    /// a pipe would then never end.
    pub fn output(&self, command: &mut Command) -> (i32, String, String) {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = self.dir.path().join(format!("run-{run}.out"));
        let err = self.dir.path().join(format!("run-{run}.err"));
        let status = command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("an output file"))
            .stderr(std::fs::File::create(&err).expect("an output file"))
            .status()
            .expect("run a Windows program");
        let read = |path: &Path| {
            String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
        };
        (status.code().unwrap_or(-1), read(&out), read(&err))
    }

    pub fn set(&self, key: &str, value: &str) {
        super::config_set(|args| self.run(args), key, value);
    }

    /// Stored history, oldest first.
    pub fn history(&self) -> Vec<serde_json::Value> {
        super::stored_history(|args| self.run(args))
    }

    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut command = self.ssetray();
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Running::new(Proc::spawn("ssetray.exe", &mut command))
    }

    /// The user's folder in the prefix (`C:\users\<name>`).
    pub fn user_folder(&self) -> PathBuf {
        let users = self.prefix.join("drive_c/users");
        std::fs::read_dir(&users)
            .expect("users")
            .flatten()
            .map(|entry| entry.path())
            .find(|path| !path.ends_with("Public"))
            .expect("the user's folder")
    }

    /// A value in the user's registry, as `reg query` prints it; `None`
    /// when there is none.
    pub fn registry_value(&self, key: &str, value: &str) -> Option<String> {
        let (code, text, _) = self.output(self.command("reg").args(["query", key, "/v", value]));
        if code != 0 {
            return None;
        }
        text.lines().find_map(|line| {
            line.split_once("REG_SZ")
                .map(|(_, data)| data.trim().to_string())
        })
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let mut kill = Command::new(WINESERVER);
        kill.arg("-k");
        wine_env(&mut kill, &self.prefix, &self.home);
        let _ = kill.stderr(Stdio::null()).status();
    }
}
