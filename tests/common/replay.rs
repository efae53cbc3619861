//! Servers that use the server companion (`companions/sse-replay`): each
//! channel's events kept in a Redis Stream, a client reconnecting with
//! `Last-Event-ID` given what it missed. The Flask-SSE blog post app with the
//! one import changed (`tests/peers/flask_replay_app.py`) under gunicorn +
//! gevent with several workers, and an sse-starlette app
//! (`tests/peers/starlette_replay_app.py`) under uvicorn. Both answer the
//! same routes.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::{free_port, http_post_json, python, repo, wait_for_port, Proc, Redis};

/// Which app serves the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// The Flask app under gunicorn with this many gevent workers.
    Flask { workers: u32 },
    /// The FastAPI + sse-starlette app under uvicorn.
    Starlette,
}

/// A running app that keeps its events in Redis Streams.
pub struct ReplayServer {
    pub port: u16,
    pub framework: Framework,
    pub proc: Proc,
}

impl ReplayServer {
    /// Start the app on `redis`, with the companion's `SSE_REPLAY_*`
    /// settings in `settings`.
    pub fn start(redis: &Redis, framework: Framework, settings: &[(&str, &str)]) -> ReplayServer {
        companion_importable();
        let port = free_port();
        let mut command = Command::new(python());
        match framework {
            Framework::Flask { workers } => command
                .args(["-m", "gunicorn", "-k", "gevent", "--no-control-socket"])
                .args(["-w", &workers.to_string()])
                .args(["-b", &format!("127.0.0.1:{port}")])
                .args(["--chdir", "tests/peers", "flask_replay_app:app"]),
            Framework::Starlette => command
                .args(["-m", "uvicorn", "--app-dir", "tests/peers"])
                .arg("starlette_replay_app:app")
                .args(["--host", "127.0.0.1", "--port", &port.to_string()]),
        };
        command
            .current_dir(repo())
            .env("REDIS_URL", redis.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in settings {
            command.env(name, value);
        }
        let proc = Proc::spawn(&format!("{framework:?}"), &mut command);
        wait_for_port(port);
        ReplayServer {
            port,
            framework,
            proc,
        }
    }

    pub fn stream_url(&self) -> String {
        format!("http://127.0.0.1:{}/stream", self.port)
    }

    /// `sse.publish(data)` (or the starlette app's `publish`); the event's
    /// stream id, which is its SSE id.
    pub fn publish(&self, data: &str) -> String {
        let body = serde_json::json!({ "data": data }).to_string();
        let reply = http_post_json(self.port, "/publish", &body);
        let reply: serde_json::Value = serde_json::from_str(&reply)
            .unwrap_or_else(|_| panic!("publish failed: {reply:?}; {}", self.liveness()));
        reply["id"]
            .as_str()
            .unwrap_or_else(|| panic!("publish gave no id: {reply}"))
            .to_string()
    }

    /// Publish `{"n": 0}` … `{"n": count - 1}`, each with `"pad": "x" * pad`
    /// when `pad` is not 0, one publish each; their stream ids in order.
    pub fn publish_many(&self, count: usize, pad: usize) -> Vec<String> {
        let body = serde_json::json!({ "count": count, "pad": pad }).to_string();
        let reply = http_post_json(self.port, "/publish_many", &body);
        let reply: serde_json::Value = serde_json::from_str(&reply)
            .unwrap_or_else(|_| panic!("publish_many failed: {reply:.300}; {}", self.liveness()));
        let ids: Vec<String> = reply["ids"]
            .as_array()
            .unwrap_or_else(|| panic!("publish_many gave no ids: {reply:.300}"))
            .iter()
            .filter_map(|id| id.as_str().map(str::to_string))
            .collect();
        assert_eq!(ids.len(), count, "publish_many published them all");
        ids
    }

    /// Whether the server still runs, for a failure's message: an empty
    /// answer from a server that died says something else than one from a
    /// server that runs.
    fn liveness(&self) -> String {
        let pid = self.proc.child.id();
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                Some(
                    stat.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .next()?
                        .to_string(),
                )
            });
        match state.as_deref() {
            None | Some("Z") | Some("X") => format!("{:?} (pid {pid}) has exited", self.framework),
            Some(_) => format!(
                "{:?} (pid {pid}) runs, with {} serving processes",
                self.framework,
                self.serving_pids().len()
            ),
        }
    }

    /// The processes that serve streams: gunicorn's workers, or uvicorn.
    pub fn serving_pids(&self) -> Vec<u32> {
        match self.framework {
            Framework::Flask { .. } => children_of(self.proc.child.id()),
            Framework::Starlette => vec![self.proc.child.id()],
        }
    }
}

/// Check once that the peers' Python can import the companion, so that a
/// venv made before it was added fails here with the fix, not later as a
/// server that never listens.
pub fn companion_importable() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let output = Command::new(python())
            .args(["-c", "import sse_replay.flask, sse_replay.starlette"])
            .output()
            .expect("run the peers' python");
        assert!(
            output.status.success(),
            "the test peers' Python ({}) cannot import sse_replay: run `bash scripts/peers-venv.sh`, \
             which installs companions/sse-replay, and export its last line as SSETRAY_TEST_PYTHON. {}",
            python(),
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// The pids whose parent is `pid`, from /proc.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| {
            // "pid (comm) state ppid …": the name may hold spaces and
            // parentheses, so the fields are counted after the last ')'.
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// A field of `/proc/PID/status` in kB (`VmHWM`: the peak resident set
/// size; `VmRSS`: the resident set size now).
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("read /proc/{pid}/status: {error}"));
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .strip_prefix(':')?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}
