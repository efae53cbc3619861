//! The app's one shutdown: a signal every long-lived task observes, and a
//! wait until each of them has finished.
//!
//! A quit (the menu, `ssetray quit`, Ctrl-C, SIGTERM) is given once, by
//! [`ShutdownSignal::begin`]. Each task that must not be cut in the middle
//! of its work (the engine, each subscription's connection) holds a
//! [`Shutdown`]: it learns of the quit from it at the points where stopping
//! loses nothing, finishes what it has in hand, and ends, which drops the
//! `Shutdown`. [`ShutdownSignal::finished`] waits until every one of them is
//! dropped, so the process exits only after the engine has written what the
//! connections had handed over and closed the store. Its wait is bounded:
//! a task that does not end in time is named in the log, and the process
//! exits anyway.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// The tasks still running, by a number of their own, with their names.
#[derive(Debug)]
struct Running {
    tasks: watch::Sender<BTreeMap<u64, Arc<str>>>,
    next: AtomicU64,
}

impl Running {
    fn enter(self: &Arc<Running>, name: Arc<str>) -> TaskGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.tasks.send_modify(|tasks| {
            tasks.insert(id, name);
        });
        TaskGuard {
            id,
            running: self.clone(),
        }
    }
}

/// Held by a task while it runs: dropping it (the task ended, or
/// panicked) takes its name off the list [`ShutdownSignal::finished`]
/// waits on.
#[derive(Debug)]
struct TaskGuard {
    id: u64,
    running: Arc<Running>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.running.tasks.send_modify(|tasks| {
            tasks.remove(&self.id);
        });
    }
}

/// Where the quit is given, and where its end is awaited.
#[derive(Debug)]
pub struct ShutdownSignal {
    begun: watch::Sender<bool>,
    running: Arc<Running>,
}

impl Default for ShutdownSignal {
    fn default() -> Self {
        ShutdownSignal::new()
    }
}

impl ShutdownSignal {
    pub fn new() -> ShutdownSignal {
        ShutdownSignal {
            begun: watch::channel(false).0,
            running: Arc::new(Running {
                tasks: watch::channel(BTreeMap::new()).0,
                next: AtomicU64::new(0),
            }),
        }
    }

    /// What a task called `name` holds while it runs. A task started
    /// after the quit learns of it at once.
    pub fn listener(&self, name: &str) -> Shutdown {
        Shutdown {
            begun: self.begun.subscribe(),
            task: Some(self.running.enter(name.into())),
        }
    }

    /// Tell every task to finish.
    pub fn begin(&self) {
        self.begun.send_replace(true);
    }

    /// Whether the quit was given.
    pub fn has_begun(&self) -> bool {
        *self.begun.borrow()
    }

    /// Wait until every task holding a [`Shutdown`] has ended, at most
    /// `within`; then the names of those still running (none when all
    /// ended).
    pub async fn finished(&self, within: Duration) -> Vec<Arc<str>> {
        let mut tasks = self.running.tasks.subscribe();
        let _ = tokio::time::timeout(within, tasks.wait_for(BTreeMap::is_empty)).await;
        let left = tasks.borrow().values().cloned().collect();
        left
    }
}

/// A task's view of the quit, and its place among the tasks awaited.
/// Handing one to a task it starts (`for_task`) makes that task awaited
/// too.
#[derive(Debug)]
pub struct Shutdown {
    begun: watch::Receiver<bool>,
    /// `None` for [`Shutdown::never`]: nobody waits for such a task.
    task: Option<TaskGuard>,
}

impl Shutdown {
    /// A shutdown that never comes, for a task that ends by other means
    /// (`ssetray listen`'s connection, a test's engine).
    pub fn never() -> Shutdown {
        Shutdown {
            begun: watch::channel(false).1,
            task: None,
        }
    }

    /// The same shutdown for a task this one starts, awaited under `name`.
    pub fn for_task(&self, name: &str) -> Shutdown {
        Shutdown {
            begun: self.begun.clone(),
            task: self
                .task
                .as_ref()
                .map(|task| task.running.enter(name.into())),
        }
    }

    /// Whether the quit was given.
    pub fn is_shutdown(&self) -> bool {
        *self.begun.borrow()
    }

    /// Resolves once the quit is given (at once if it was); never for
    /// [`Shutdown::never`]. Cancel-safe: it only looks at a value that,
    /// once true, stays so.
    pub async fn recv(&mut self) {
        if self.begun.wait_for(|begun| *begun).await.is_err() {
            // The signal is gone without a quit: none will come.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_listener_hears_the_quit_even_one_made_after_it() {
        let signal = ShutdownSignal::new();
        let mut early = signal.listener("early");
        let mut child = early.for_task("child");
        assert!(!early.is_shutdown());
        signal.begin();
        early.recv().await;
        child.recv().await;
        let mut late = signal.listener("late");
        late.recv().await;
        assert!(early.is_shutdown() && child.is_shutdown() && late.is_shutdown());
    }

    #[tokio::test]
    async fn the_end_is_awaited_until_every_task_has_dropped_its_shutdown() {
        let signal = ShutdownSignal::new();
        let (ended_tx, ended) = tokio::sync::oneshot::channel();
        let mut engine = signal.listener("engine");
        let connection = engine.for_task("connection");
        tokio::spawn(async move {
            engine.recv().await;
            // The engine waits for its connection, which ends after it
            // hears the quit.
            let _ = ended.await;
            drop(engine);
        });
        tokio::spawn(async move {
            let mut connection = connection;
            connection.recv().await;
            let _ = ended_tx.send(());
        });
        signal.begin();
        let left = signal.finished(Duration::from_secs(3600)).await;
        assert!(left.is_empty(), "{left:?}");
    }

    #[tokio::test]
    async fn a_task_that_does_not_end_is_named_after_the_wait() {
        let signal = ShutdownSignal::new();
        let stuck = signal.listener("stuck connection");
        let done = signal.listener("engine");
        drop(done);
        signal.begin();
        // However short the wait: the stuck task never ends by itself.
        let left = signal.finished(Duration::from_millis(10)).await;
        assert_eq!(left, vec![Arc::<str>::from("stuck connection")]);
        drop(stuck);
        assert!(signal.finished(Duration::from_secs(3600)).await.is_empty());
    }

    #[tokio::test]
    async fn a_shutdown_that_never_comes_never_resolves_and_is_not_awaited() {
        let mut never = Shutdown::never();
        let child = never.for_task("child");
        assert!(!child.is_shutdown());
        let heard = tokio::time::timeout(Duration::from_millis(10), never.recv()).await;
        assert!(heard.is_err());
    }
}
