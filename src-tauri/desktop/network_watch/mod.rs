//! Hearing the network and the machine's sleep, rather than polling them.
//!
//! The sources, each used where it exists, one file per platform:
//! - Linux (`linux.rs`): the kernel's routing socket (rtnetlink: links,
//!   addresses and routes coming and going); NetworkManager's
//!   `StateChanged` and logind's `PrepareForSleep(false)`, the "resumed"
//!   signal, on the system bus, where they run;
//! - Windows (`windows.rs`): `NotifyIpInterfaceChange` (interfaces and
//!   their addresses) and `PowerRegisterSuspendResumeNotification`.
//!
//! They are folded into [`NetworkEvent`]s for the engine: the network came
//! (connect now, whatever the backoff had grown to), the network lost
//! something (the open connection may be bound to an address that is gone:
//! reconnect), the machine woke up (any connection from before is suspect).
//! What was found is logged once, with what the app falls back to.

use tokio::sync::mpsc;

use crate::protocol::sse::Control;

/// What changed, for the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkEvent {
    /// Something came up (a link, an address, a route, "connected"): a
    /// client waiting to retry connects now.
    Came,
    /// Something went (a link down, an address or a route removed,
    /// NetworkManager disconnected): an open connection is suspect.
    Lost,
    /// The machine woke from sleep.
    Resumed,
}

impl NetworkEvent {
    /// What a client is told of this change: the one place that decides,
    /// for each of the app's subscriptions and for `listen` alike. After a
    /// wake-up, as after a loss, an open connection is suspect.
    pub fn control(self) -> Control {
        match self {
            NetworkEvent::Came => Control::NetworkCame,
            NetworkEvent::Lost | NetworkEvent::Resumed => Control::NetworkLost,
        }
    }
}

/// Which sources answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watching {
    /// Links, addresses and routes (rtnetlink; on Windows, IP interfaces).
    pub routes: bool,
    pub network_manager: bool,
    /// The machine's sleep (logind; on Windows, the power notifications).
    pub logind: bool,
}

impl Watching {
    /// Whether a sleep is heard; without it, the client compares its clocks
    /// on a timer instead.
    pub fn hears_sleep(&self) -> bool {
        self.logind
    }

    /// Whether the network's return is heard; without it, an offline
    /// client retries on its backoff.
    pub fn hears_the_network(&self) -> bool {
        self.routes || self.network_manager
    }
}

/// What the log says was found, in the platform's words.
struct Words {
    routes: &'static str,
    no_routes: &'static str,
    sleep: &'static str,
    no_sleep: &'static str,
}

#[cfg(not(windows))]
const WORDS: Words = Words {
    routes: "routing changes",
    no_routes: "no routing changes",
    sleep: "sleep through logind",
    no_sleep: "sleep by comparing clocks every 10 s (no logind)",
};

#[cfg(windows)]
const WORDS: Words = Words {
    routes: "IP interface changes",
    no_routes: "no IP interface changes",
    sleep: "sleep through the power notifications",
    no_sleep: "sleep by comparing clocks every 10 s (no power notifications)",
};

/// Start every source that answers; their events arrive on the receiver.
pub async fn start() -> (Watching, mpsc::Receiver<NetworkEvent>) {
    let (events, receiver) = mpsc::channel(16);
    let mut watching = Watching::default();
    #[cfg(target_os = "linux")]
    linux::start(&mut watching, &events).await;
    #[cfg(windows)]
    windows::start(&mut watching, &events);
    drop(events);
    let routes = if watching.routes {
        WORDS.routes
    } else {
        WORDS.no_routes
    };
    let network_manager = if watching.network_manager {
        "NetworkManager"
    } else {
        "no NetworkManager"
    };
    let sleep = if watching.logind {
        WORDS.sleep
    } else {
        WORDS.no_sleep
    };
    tracing::info!("hearing {routes}, {network_manager}, {sleep}");
    (watching, receiver)
}

#[cfg(target_os = "linux")]
mod linux;
#[cfg(windows)]
mod windows;
