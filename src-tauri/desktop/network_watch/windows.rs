//! The network and sleep on Windows: `NotifyIpInterfaceChange` (an IP
//! interface added, removed, or its connected state changed) and
//! `PowerRegisterSuspendResumeNotification` (the machine woke up).
//!
//! Both call back on a system thread: the callbacks only hand an event to
//! a channel, and a task folds a burst (a network going away removes its
//! interfaces one by one) into one event for the engine, as on Linux.
//! The registrations last as long as the process, so what they point at
//! (the channel's sender) is leaked once, on purpose.

use std::ffi::c_void;
use std::time::Duration;

use tokio::sync::mpsc;
use windows_sys::Win32::Foundation::{ERROR_SUCCESS, HANDLE};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    MibAddInstance, MibDeleteInstance, MibParameterNotification, NotifyIpInterfaceChange,
    MIB_IPINTERFACE_ROW, MIB_NOTIFICATION_TYPE,
};
use windows_sys::Win32::Networking::WinSock::AF_UNSPEC;
use windows_sys::Win32::System::Power::{
    PowerRegisterSuspendResumeNotification, DEVICE_NOTIFY_SUBSCRIBE_PARAMETERS,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{DEVICE_NOTIFY_CALLBACK, PBT_APMRESUMEAUTOMATIC};

use super::{NetworkEvent, Watching};

/// How long a burst of interface changes is gathered into one event.
const SETTLE: Duration = Duration::from_millis(300);

/// What one interface notification says.
fn classify(kind: MIB_NOTIFICATION_TYPE, connected: Option<bool>) -> Option<NetworkEvent> {
    if kind == MibAddInstance {
        Some(NetworkEvent::Came)
    } else if kind == MibDeleteInstance {
        Some(NetworkEvent::Lost)
    } else if kind == MibParameterNotification {
        Some(match connected {
            Some(true) => NetworkEvent::Came,
            _ => NetworkEvent::Lost,
        })
    } else {
        // The initial notification: nothing changed.
        None
    }
}

unsafe extern "system" fn interface_changed(
    context: *const c_void,
    row: *const MIB_IPINTERFACE_ROW,
    kind: MIB_NOTIFICATION_TYPE,
) {
    // SAFETY: the row, when given, is valid for the call.
    let connected = unsafe { row.as_ref() }.map(|row| row.Connected);
    if let Some(event) = classify(kind, connected) {
        // SAFETY: `context` is the sender leaked in `start`, alive for
        // the process.
        let sender = unsafe { &*context.cast::<mpsc::Sender<NetworkEvent>>() };
        let _ = sender.try_send(event);
    }
}

unsafe extern "system" fn power_changed(
    context: *const c_void,
    kind: u32,
    _setting: *const c_void,
) -> u32 {
    if kind == PBT_APMRESUMEAUTOMATIC {
        // SAFETY: as in `interface_changed`.
        let sender = unsafe { &*context.cast::<mpsc::Sender<NetworkEvent>>() };
        let _ = sender.try_send(NetworkEvent::Resumed);
    }
    ERROR_SUCCESS
}

/// Register both notifications; what answered is noted in `watching`.
pub fn start(watching: &mut Watching, events: &mpsc::Sender<NetworkEvent>) {
    let (raw_tx, raw) = mpsc::channel::<NetworkEvent>(64);
    let sender: &'static mpsc::Sender<NetworkEvent> = Box::leak(Box::new(raw_tx));
    let context = (sender as *const mpsc::Sender<NetworkEvent>).cast::<c_void>();

    let mut handle: HANDLE = std::ptr::null_mut();
    // SAFETY: the callback and its context live for the process.
    let status = unsafe {
        NotifyIpInterfaceChange(
            AF_UNSPEC,
            Some(interface_changed),
            context,
            false,
            &mut handle,
        )
    };
    if status == ERROR_SUCCESS {
        watching.routes = true;
    } else {
        tracing::warn!(
            "cannot watch the network's interfaces: {}",
            std::io::Error::from_raw_os_error(status as i32)
        );
    }

    let parameters: &'static DEVICE_NOTIFY_SUBSCRIBE_PARAMETERS =
        Box::leak(Box::new(DEVICE_NOTIFY_SUBSCRIBE_PARAMETERS {
            Callback: Some(power_changed),
            Context: context.cast_mut(),
        }));
    let mut registration: *mut c_void = std::ptr::null_mut();
    // SAFETY: the parameters, their callback and context live for the
    // process.
    let status = unsafe {
        PowerRegisterSuspendResumeNotification(
            DEVICE_NOTIFY_CALLBACK,
            (parameters as *const DEVICE_NOTIFY_SUBSCRIBE_PARAMETERS)
                .cast_mut()
                .cast(),
            &mut registration,
        )
    };
    if status == ERROR_SUCCESS {
        watching.logind = true;
    } else {
        tracing::warn!(
            "cannot hear the computer wake up: {}",
            std::io::Error::from_raw_os_error(status as i32)
        );
    }
    tokio::spawn(fold(raw, events.clone()));
}

/// Fold each burst into one event: a loss anywhere in it makes it a loss.
async fn fold(mut raw: mpsc::Receiver<NetworkEvent>, events: mpsc::Sender<NetworkEvent>) {
    while let Some(mut event) = raw.recv().await {
        if event != NetworkEvent::Resumed {
            let settle = tokio::time::sleep(SETTLE);
            tokio::pin!(settle);
            loop {
                tokio::select! {
                    _ = &mut settle => break,
                    more = raw.recv() => match more {
                        Some(NetworkEvent::Lost) => event = NetworkEvent::Lost,
                        Some(NetworkEvent::Resumed) => event = NetworkEvent::Resumed,
                        Some(NetworkEvent::Came) => {}
                        None => break,
                    },
                }
            }
        }
        tracing::info!("the network changed ({event:?})");
        if events.send(event).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_comes_and_what_goes() {
        assert_eq!(classify(MibAddInstance, None), Some(NetworkEvent::Came));
        assert_eq!(classify(MibDeleteInstance, None), Some(NetworkEvent::Lost));
        assert_eq!(
            classify(MibParameterNotification, Some(true)),
            Some(NetworkEvent::Came)
        );
        assert_eq!(
            classify(MibParameterNotification, Some(false)),
            Some(NetworkEvent::Lost)
        );
        assert_eq!(classify(3, None), None, "the initial notification");
    }
}
