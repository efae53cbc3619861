//! The network and sleep on Linux: the kernel's routing socket, and
//! NetworkManager and logind on the system bus.

use std::time::Duration;

/// How long a burst of routing messages (a link going down removes its
/// addresses and routes one by one) is gathered into one event.
const SETTLE: Duration = Duration::from_millis(300);

// rtnetlink message types (linux/rtnetlink.h) and multicast groups.
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV4_ROUTE: u32 = 0x40;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;
/// `IFF_LOWER_UP`: the link has carrier.
const IFF_LOWER_UP: u32 = 0x10000;
const IFF_UP: u32 = 0x1;
const NLMSG_HEADER: usize = 16;

/// What one datagram from the routing socket says: `Some(Lost)` when
/// anything in it went, `Some(Came)` when something came, `None` for
/// nothing we act on. Any bytes at all give an answer, never a panic.
pub fn classify(datagram: &[u8]) -> Option<NetworkEvent> {
    let mut found = None;
    let mut rest = datagram;
    while rest.len() >= NLMSG_HEADER {
        let length = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if length < NLMSG_HEADER || length > rest.len() {
            break;
        }
        let body = &rest[NLMSG_HEADER..length];
        let event = match kind {
            RTM_DELLINK | RTM_DELADDR | RTM_DELROUTE => Some(NetworkEvent::Lost),
            RTM_NEWADDR | RTM_NEWROUTE => Some(NetworkEvent::Came),
            RTM_NEWLINK => {
                // struct ifinfomsg: family, pad, type (u16), index (i32),
                // flags (u32), change (u32).
                body.get(8..12).map(|flags| {
                    let flags = u32::from_ne_bytes([flags[0], flags[1], flags[2], flags[3]]);
                    if flags & IFF_UP != 0 && flags & IFF_LOWER_UP != 0 {
                        NetworkEvent::Came
                    } else {
                        NetworkEvent::Lost
                    }
                })
            }
            _ => None,
        };
        found = match (found, event) {
            (Some(NetworkEvent::Lost), _) | (_, Some(NetworkEvent::Lost)) => {
                Some(NetworkEvent::Lost)
            }
            (found, event) => event.or(found),
        };
        // Messages are aligned to 4 bytes.
        let next = length.div_ceil(4) * 4;
        rest = rest.get(next..).unwrap_or_default();
    }
    found
}

/// Start what answers: the routing socket, and the system bus's services
/// (which must not hold up the start when the bus does not answer).
pub async fn start(watching: &mut Watching, events: &mpsc::Sender<NetworkEvent>) {
    match routes(events.clone()) {
        Ok(()) => watching.routes = true,
        Err(error) => tracing::warn!("cannot watch the network's routes: {error}"),
    }
    match tokio::time::timeout(Duration::from_secs(3), system_bus(events.clone())).await {
        Ok((network_manager, logind)) => {
            watching.network_manager = network_manager;
            watching.logind = logind;
        }
        Err(_) => tracing::warn!("the system bus did not answer within 3 s"),
    }
}

use futures_util::StreamExt;
use netlink_sys::{protocols::NETLINK_ROUTE, AsyncSocket, AsyncSocketExt, SocketAddr};
use tokio::sync::mpsc;

use super::{NetworkEvent, Watching};

/// The routing socket, read on a task; bursts folded over [`SETTLE`].
pub fn routes(events: mpsc::Sender<NetworkEvent>) -> std::io::Result<()> {
    let mut socket = netlink_sys::TokioSocket::new(NETLINK_ROUTE)?;
    let groups = RTMGRP_LINK
        | RTMGRP_IPV4_IFADDR
        | RTMGRP_IPV4_ROUTE
        | RTMGRP_IPV6_IFADDR
        | RTMGRP_IPV6_ROUTE;
    socket.socket_mut().bind(&SocketAddr::new(0, groups))?;
    tokio::spawn(async move {
        loop {
            let first = match socket.recv_from_full().await {
                Ok((datagram, _)) => classify(&datagram),
                Err(error) => {
                    // ENOBUFS: the kernel dropped messages; something
                    // changed, but we do not know what: suspect.
                    tracing::debug!("the routing socket: {error}");
                    Some(NetworkEvent::Lost)
                }
            };
            let Some(mut event) = first else { continue };
            let settle = tokio::time::sleep(SETTLE);
            tokio::pin!(settle);
            loop {
                tokio::select! {
                    _ = &mut settle => break,
                    received = socket.recv_from_full() => {
                        let more = received.map(|(datagram, _)| classify(&datagram)).unwrap_or(Some(NetworkEvent::Lost));
                        if more == Some(NetworkEvent::Lost) {
                            event = NetworkEvent::Lost;
                        }
                    }
                }
            }
            tracing::info!("the network changed ({event:?})");
            if events.send(event).await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[zbus::proxy(
    interface = "org.freedesktop.NetworkManager",
    default_service = "org.freedesktop.NetworkManager",
    default_path = "/org/freedesktop/NetworkManager"
)]
trait NetworkManager {
    #[zbus(signal)]
    fn state_changed(&self, state: u32) -> zbus::Result<()>;
}

#[zbus::proxy(
    interface = "org.freedesktop.login1.Manager",
    default_service = "org.freedesktop.login1",
    default_path = "/org/freedesktop/login1"
)]
trait Login {
    #[zbus(signal)]
    fn prepare_for_sleep(&self, start: bool) -> zbus::Result<()>;
}

/// NetworkManager's "connected" states start here (NM_STATE_CONNECTED_LOCAL).
const NM_CONNECTED: u32 = 50;

/// Whether a service is on the bus now, asked without waiting for an
/// activation that will not come.
async fn present(connection: &zbus::Connection, name: &str) -> bool {
    let Ok(dbus) = zbus::fdo::DBusProxy::new(connection).await else {
        return false;
    };
    let Ok(name) = zbus::names::BusName::try_from(name) else {
        return false;
    };
    dbus.name_has_owner(name).await.unwrap_or(false)
}

/// NetworkManager and logind on the system bus; which were found.
pub async fn system_bus(events: mpsc::Sender<NetworkEvent>) -> (bool, bool) {
    let connect = tokio::time::timeout(Duration::from_secs(2), zbus::Connection::system());
    let connection = match connect.await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            tracing::debug!("no system bus: {error}");
            return (false, false);
        }
        Err(_) => return (false, false),
    };
    let network_manager = present(&connection, "org.freedesktop.NetworkManager").await;
    let logind = present(&connection, "org.freedesktop.login1").await;
    if network_manager {
        if let Ok(proxy) = NetworkManagerProxy::new(&connection).await {
            if let Ok(mut states) = proxy.receive_state_changed().await {
                let events = events.clone();
                tokio::spawn(async move {
                    while let Some(signal) = states.next().await {
                        let event = match signal.args() {
                            Ok(args) if args.state >= NM_CONNECTED => NetworkEvent::Came,
                            Ok(_) => NetworkEvent::Lost,
                            Err(_) => continue,
                        };
                        tracing::info!("NetworkManager: the network changed ({event:?})");
                        if events.send(event).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }
    }
    let mut logind_heard = false;
    if logind {
        if let Ok(proxy) = LoginProxy::new(&connection).await {
            if let Ok(mut sleeps) = proxy.receive_prepare_for_sleep().await {
                logind_heard = true;
                tokio::spawn(async move {
                    while let Some(signal) = sleeps.next().await {
                        if matches!(signal.args(), Ok(args) if !args.start) {
                            tracing::info!("the computer woke up");
                            if events.send(NetworkEvent::Resumed).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        }
    }
    (network_manager, logind_heard)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, body: &[u8]) -> Vec<u8> {
        let length = (NLMSG_HEADER + body.len()) as u32;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&length.to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend_from_slice(body);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes
    }

    fn link(flags: u32) -> Vec<u8> {
        let mut body = vec![0u8; 16];
        body[8..12].copy_from_slice(&flags.to_ne_bytes());
        message(RTM_NEWLINK, &body)
    }

    #[test]
    fn what_comes_and_what_goes() {
        assert_eq!(
            classify(&link(IFF_UP | IFF_LOWER_UP)),
            Some(NetworkEvent::Came)
        );
        assert_eq!(
            classify(&link(IFF_UP)),
            Some(NetworkEvent::Lost),
            "no carrier"
        );
        assert_eq!(classify(&link(0)), Some(NetworkEvent::Lost));
        assert_eq!(
            classify(&message(RTM_DELROUTE, &[0; 12])),
            Some(NetworkEvent::Lost)
        );
        assert_eq!(
            classify(&message(RTM_DELADDR, &[0; 8])),
            Some(NetworkEvent::Lost)
        );
        assert_eq!(
            classify(&message(RTM_NEWADDR, &[0; 8])),
            Some(NetworkEvent::Came)
        );
        // Neighbour and other messages: nothing to act on.
        assert_eq!(classify(&message(28, &[0; 8])), None);
    }

    #[test]
    fn a_datagram_with_a_loss_among_gains_is_a_loss() {
        let mut datagram = message(RTM_NEWADDR, &[0; 8]);
        datagram.extend(message(RTM_DELROUTE, &[0; 12]));
        datagram.extend(message(RTM_NEWROUTE, &[0; 12]));
        assert_eq!(classify(&datagram), Some(NetworkEvent::Lost));
    }

    #[test]
    fn any_bytes_give_an_answer() {
        assert_eq!(classify(&[]), None);
        assert_eq!(classify(&[0xff; 3]), None);
        // A length past the end, a length under the header.
        let mut lying = message(RTM_DELROUTE, &[0; 4]);
        lying[0] = 200;
        assert_eq!(classify(&lying), None);
        let mut short = message(RTM_DELROUTE, &[0; 4]);
        short[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert_eq!(classify(&short), None);
        // A link message too short for its flags.
        assert_eq!(classify(&message(RTM_NEWLINK, &[0; 4])), None);
    }
}
