//! The desktop's style on Linux, as the freedesktop settings portal tells
//! it.
//!
//! GNOME's "Dark style" and KDE's colour schemes are said through the
//! portal's `org.freedesktop.appearance color-scheme`, not through the GTK
//! theme's name, so a window that only looked at `GTK_THEME` stayed light
//! on a dark desktop. The window asks once at start and follows the
//! portal's `SettingChanged` signal; without a portal it follows the GTK
//! theme as the webview reports it.

use futures_util::StreamExt;
use zbus::zvariant::{OwnedValue, Value};

use super::Scheme;

const NAMESPACE: &str = "org.freedesktop.appearance";
const KEY: &str = "color-scheme";

#[zbus::proxy(
    interface = "org.freedesktop.portal.Settings",
    default_service = "org.freedesktop.portal.Desktop",
    default_path = "/org/freedesktop/portal/desktop"
)]
trait PortalSettings {
    fn read_one(&self, namespace: &str, key: &str) -> zbus::Result<OwnedValue>;
    /// The first version's call, which wraps the value in one more variant.
    fn read(&self, namespace: &str, key: &str) -> zbus::Result<OwnedValue>;
    #[zbus(signal)]
    fn setting_changed(&self, namespace: &str, key: &str, value: Value<'_>) -> zbus::Result<()>;
}

/// The portal's number as a scheme: 1 dark, 2 light, 0 (no preference) or
/// anything else none. Unwraps the variants the older `Read` adds.
pub fn scheme_of(value: &Value<'_>) -> Option<Scheme> {
    match value {
        Value::Value(inner) => scheme_of(inner),
        Value::U32(1) => Some(Scheme::Dark),
        Value::U32(2) => Some(Scheme::Light),
        _ => None,
    }
}

async fn proxy() -> Option<PortalSettingsProxy<'static>> {
    let connect = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        zbus::Connection::session(),
    );
    let connection = connect.await.ok()?.ok()?;
    PortalSettingsProxy::new(&connection).await.ok()
}

/// The desktop's style now; `None` without a portal or a preference.
pub async fn current() -> Option<Scheme> {
    let proxy = proxy().await?;
    let value = match proxy.read_one(NAMESPACE, KEY).await {
        Ok(value) => value,
        Err(_) => proxy.read(NAMESPACE, KEY).await.ok()?,
    };
    scheme_of(&value)
}

/// Call `changed` with each new style the portal announces, for as long as
/// the session lasts.
pub async fn follow(mut changed: impl FnMut(Option<Scheme>)) {
    let Some(proxy) = proxy().await else {
        return;
    };
    let Ok(mut signals) = proxy.receive_setting_changed().await else {
        return;
    };
    while let Some(signal) = signals.next().await {
        if let Ok(args) = signal.args() {
            if args.namespace == NAMESPACE && args.key == KEY {
                changed(scheme_of(&args.value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portals_numbers_mean_dark_light_or_nothing() {
        assert_eq!(scheme_of(&Value::U32(1)), Some(Scheme::Dark));
        assert_eq!(scheme_of(&Value::U32(2)), Some(Scheme::Light));
        assert_eq!(scheme_of(&Value::U32(0)), None);
        assert_eq!(scheme_of(&Value::U32(7)), None);
        assert_eq!(scheme_of(&Value::Str("dark".into())), None);
        let wrapped = Value::Value(Box::new(Value::Value(Box::new(Value::U32(1)))));
        assert_eq!(scheme_of(&wrapped), Some(Scheme::Dark));
    }
}
