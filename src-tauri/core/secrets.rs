//! Where the user's secrets (the values of extra request headers, such as
//! `Authorization = "Bearer ..."`) are kept.
//!
//! Where the desktop runs a Secret Service (GNOME Keyring, KeePassXC,
//! KWallet's bridge) on the session bus, header values go there (one that
//! the bus would only start on demand is not used: it may come up locked
//! and ask for a password out of the blue): the settings file then lists
//! only the header names under `secret_headers`, so a copied or backed-up
//! settings file carries no token. Where none answers, the values stay in
//! the settings file, which is the user's alone (0600 in a 0700 folder, on
//! every save). Either way a value is never logged.
//!
//! The Secret Service is spoken over D-Bus with zbus (the tray's D-Bus
//! stack), with the "plain" transfer: the session bus is the user's own.

use std::path::Path;

use crate::core::settings::{Settings, SettingsError};

/// Where [`save`] put the header values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptIn {
    SecretService,
    SettingsFile,
}

impl KeptIn {
    pub fn describe(self) -> &'static str {
        match self {
            KeptIn::SecretService => "in the desktop's Secret Service (keyring)",
            KeptIn::SettingsFile => {
                "in the settings file, readable by you alone (no Secret Service answers)"
            }
        }
    }
}

/// Save `settings` to `path`, the header values to the Secret Service when
/// one answers, else into the file.
pub async fn save(settings: &Settings, path: &Path) -> Result<KeptIn, SettingsError> {
    settings.validate()?;
    let service = SecretService::connect().await;
    let mut on_disk = settings.clone();
    let any_header = settings.subscriptions.iter().any(|subscription| {
        !subscription.headers.is_empty() || !subscription.secret_headers.is_empty()
    });
    let kept_in = match &service {
        Some(service) if any_header => match service.keep_headers(settings).await {
            Ok(()) => {
                for subscription in &mut on_disk.subscriptions {
                    subscription.secret_headers = subscription.headers.keys().cloned().collect();
                    subscription.headers.clear();
                }
                KeptIn::SecretService
            }
            Err(error) => {
                tracing::warn!("the Secret Service refused the header values, so they stay in the settings file: {error}");
                keep_unreachable_names(&mut on_disk);
                KeptIn::SettingsFile
            }
        },
        Some(_) => KeptIn::SecretService,
        None => {
            keep_unreachable_names(&mut on_disk);
            KeptIn::SettingsFile
        }
    };
    on_disk.save(path)?;
    Ok(kept_in)
}

/// Without the Secret Service, values given now go to the file; headers
/// whose values it keeps (and could not be read now) stay named, so that a
/// keyring that answers again still provides them.
fn keep_unreachable_names(on_disk: &mut Settings) {
    for subscription in &mut on_disk.subscriptions {
        let given = subscription.headers.clone();
        subscription
            .secret_headers
            .retain(|name| !given.contains_key(name));
    }
}

/// Load the settings at `path` with the header values the Secret Service
/// keeps. A value that cannot be had (no service, a locked keyring, an
/// entry deleted) leaves that header out and says why, in words for the
/// status, so that the app still runs.
pub async fn load(path: &Path) -> Result<(Settings, Option<String>), SettingsError> {
    let mut settings = Settings::load(path)?;
    let problem = fill(&mut settings).await;
    Ok((settings, problem))
}

/// Fetch the values of each subscription's `secret_headers` into its
/// `headers`.
pub async fn fill(settings: &mut Settings) -> Option<String> {
    let kept: Vec<String> = settings
        .subscriptions
        .iter()
        .flat_map(|subscription| subscription.secret_headers.iter().cloned())
        .collect();
    if kept.is_empty() {
        return None;
    }
    let names = kept.join(", ");
    let Some(service) = SecretService::connect().await else {
        return Some(format!(
            "The header {names} is kept in the desktop's Secret Service, which does not answer; connecting without it. Start or unlock your keyring, then choose Reconnect."
        ));
    };
    let mut missing = Vec::new();
    for (index, subscription) in settings.subscriptions.iter_mut().enumerate() {
        for name in subscription.secret_headers.clone() {
            match service.fetch(&subscription.name, index == 0, &name).await {
                Ok(Some(value)) => {
                    subscription.headers.insert(name, value);
                }
                Ok(None) => missing.push(name),
                Err(error) => {
                    tracing::warn!("the Secret Service: {error}");
                    missing.push(name);
                }
            }
        }
    }
    (!missing.is_empty()).then(|| {
        let missing = missing.join(", ");
        format!(
            "The header {missing} is not in the Secret Service (locked or deleted); connecting without it. Unlock your keyring and choose Reconnect, or set it again with `ssetray config set headers.{} VALUE`.",
            missing.split(", ").next().unwrap_or_default()
        )
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{0}")]
    Bus(String),
    #[error("the keyring is locked and unlocking it was dismissed")]
    Dismissed,
    #[error("the Secret Service has no default keyring")]
    NoKeyring,
}

#[cfg(target_os = "linux")]
pub use linux::SecretService;

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::time::Duration;

    use futures_util::StreamExt;
    use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

    use super::SecretError;
    use crate::core::settings::Settings;

    /// The Secret Service's transfer format: session, parameters, value,
    /// content type.
    type Secret = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

    #[zbus::proxy(
        interface = "org.freedesktop.Secret.Service",
        default_service = "org.freedesktop.secrets",
        default_path = "/org/freedesktop/secrets"
    )]
    trait Service {
        fn open_session(
            &self,
            algorithm: &str,
            input: &Value<'_>,
        ) -> zbus::Result<(OwnedValue, OwnedObjectPath)>;
        fn search_items(
            &self,
            attributes: HashMap<&str, &str>,
        ) -> zbus::Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>)>;
        fn unlock(
            &self,
            objects: &[OwnedObjectPath],
        ) -> zbus::Result<(Vec<OwnedObjectPath>, OwnedObjectPath)>;
        fn get_secrets(
            &self,
            items: &[OwnedObjectPath],
            session: &OwnedObjectPath,
        ) -> zbus::Result<HashMap<OwnedObjectPath, Secret>>;
        fn read_alias(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    }

    #[zbus::proxy(
        interface = "org.freedesktop.Secret.Collection",
        default_service = "org.freedesktop.secrets"
    )]
    trait Collection {
        fn create_item(
            &self,
            properties: HashMap<&str, Value<'_>>,
            secret: &Secret,
            replace: bool,
        ) -> zbus::Result<(OwnedObjectPath, OwnedObjectPath)>;
    }

    #[zbus::proxy(
        interface = "org.freedesktop.Secret.Item",
        default_service = "org.freedesktop.secrets"
    )]
    trait Item {
        fn delete(&self) -> zbus::Result<OwnedObjectPath>;
    }

    #[zbus::proxy(
        interface = "org.freedesktop.Secret.Prompt",
        default_service = "org.freedesktop.secrets"
    )]
    trait Prompt {
        fn prompt(&self, window_id: &str) -> zbus::Result<()>;
        #[zbus(signal)]
        fn completed(&self, dismissed: bool, result: OwnedValue) -> zbus::Result<()>;
    }

    /// How long a keyring's unlock dialog may take before we give up.
    const PROMPT_TIMEOUT: Duration = Duration::from_secs(120);

    fn bus(error: impl std::fmt::Display) -> SecretError {
        SecretError::Bus(error.to_string())
    }

    /// A session with the desktop's Secret Service.
    pub struct SecretService {
        connection: zbus::Connection,
        service: ServiceProxy<'static>,
        session: OwnedObjectPath,
    }

    /// The attributes that name one header's value of one subscription.
    fn attributes<'a>(subscription: &'a str, name: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([
            ("application", "ssetray"),
            ("subscription", subscription),
            ("header", name),
        ])
    }

    impl SecretService {
        /// The Secret Service of this session, if one answers.
        pub async fn connect() -> Option<SecretService> {
            // A session bus that does not answer must not hold up a start.
            let connect = tokio::time::timeout(Duration::from_secs(3), Self::try_connect());
            match connect.await {
                Ok(Ok(service)) => Some(service),
                Ok(Err(error)) => {
                    tracing::debug!("no Secret Service: {error}");
                    None
                }
                Err(_) => {
                    tracing::warn!("the session bus did not answer within 3 s: no Secret Service");
                    None
                }
            }
        }

        async fn try_connect() -> Result<SecretService, SecretError> {
            let connection = zbus::Connection::session().await.map_err(bus)?;
            let dbus = zbus::fdo::DBusProxy::new(&connection).await.map_err(bus)?;
            let name = zbus::names::BusName::try_from("org.freedesktop.secrets").map_err(bus)?;
            // Only a Secret Service that runs: one the bus would start on
            // demand (D-Bus activation) may come up locked and ask for a
            // password out of the blue, on a desktop that never uses it.
            if !dbus.name_has_owner(name).await.unwrap_or(false) {
                return Err(SecretError::Bus(
                    "no Secret Service runs on the session bus".into(),
                ));
            }
            let service = ServiceProxy::new(&connection).await.map_err(bus)?;
            let (_, session) = service
                .open_session("plain", &Value::from(""))
                .await
                .map_err(bus)?;
            Ok(SecretService {
                connection,
                service,
                session,
            })
        }

        /// Keep every header value of `settings`, and forget the values of
        /// headers it no longer has.
        pub async fn keep_headers(&self, settings: &Settings) -> Result<(), SecretError> {
            let collection = self.default_collection().await?;
            // Collected first: an iterator of closures held across the
            // awaits below would keep the future from being `Send`.
            let mut headers: Vec<(&str, &String, &String)> = Vec::new();
            for subscription in &settings.subscriptions {
                for (name, value) in &subscription.headers {
                    headers.push((subscription.name.as_str(), name, value));
                }
            }
            for (subscription, name, value) in headers {
                let label = format!("SSE Tray: the {name} header of {subscription}");
                let properties = HashMap::from([
                    ("org.freedesktop.Secret.Item.Label", Value::from(label)),
                    (
                        "org.freedesktop.Secret.Item.Attributes",
                        Value::from(attributes(subscription, name)),
                    ),
                ]);
                let secret: Secret = (
                    self.session.clone(),
                    Vec::new(),
                    value.as_bytes().to_vec(),
                    "text/plain".into(),
                );
                let (_, prompt) = collection
                    .create_item(properties, &secret, true)
                    .await
                    .map_err(bus)?;
                self.complete(prompt).await?;
            }
            let (unlocked, locked) = self
                .service
                .search_items(HashMap::from([("application", "ssetray")]))
                .await
                .map_err(bus)?;
            let items = unlocked.into_iter().chain(locked);
            for item in items {
                // Kept only while its subscription has that header; one
                // from before subscriptions (no subscription named) goes,
                // its value having been written anew above.
                let kept = match self.item_attributes(&item).await {
                    Some(found) => found.get("header").is_some_and(|header| {
                        found.get("subscription").is_some_and(|name| {
                            settings.subscription(name).is_some_and(|subscription| {
                                subscription.headers.contains_key(header)
                            })
                        })
                    }),
                    None => true,
                };
                if !kept {
                    let item = ItemProxy::builder(&self.connection)
                        .path(item)
                        .map_err(bus)?
                        .build()
                        .await
                        .map_err(bus)?;
                    let prompt = item.delete().await.map_err(bus)?;
                    self.complete(prompt).await?;
                }
            }
            Ok(())
        }

        async fn item_attributes(&self, item: &OwnedObjectPath) -> Option<HashMap<String, String>> {
            let properties = zbus::fdo::PropertiesProxy::builder(&self.connection)
                .destination("org.freedesktop.secrets")
                .ok()?
                .path(item.clone())
                .ok()?
                .build()
                .await
                .ok()?;
            let interface =
                zbus::names::InterfaceName::try_from("org.freedesktop.Secret.Item").ok()?;
            let value = properties.get(interface, "Attributes").await.ok()?;
            value.try_into().ok()
        }

        /// The value kept for header `name` of `subscription`, unlocking the
        /// keyring if need be. The first subscription also finds a value
        /// kept before subscriptions (no subscription named).
        pub async fn fetch(
            &self,
            subscription: &str,
            first: bool,
            name: &str,
        ) -> Result<Option<String>, SecretError> {
            if let Some(value) = self
                .fetch_matching(attributes(subscription, name), None)
                .await?
            {
                return Ok(Some(value));
            }
            if !first {
                return Ok(None);
            }
            let before = HashMap::from([("application", "ssetray"), ("header", name)]);
            self.fetch_matching(before, Some("subscription")).await
        }

        /// The value of the first item matching `wanted` (and lacking the
        /// attribute `without`, when given).
        async fn fetch_matching(
            &self,
            wanted: HashMap<&str, &str>,
            without: Option<&str>,
        ) -> Result<Option<String>, SecretError> {
            let (mut unlocked, locked) = self
                .service
                .search_items(wanted.clone())
                .await
                .map_err(bus)?;
            if unlocked.is_empty() && !locked.is_empty() {
                let (now_unlocked, prompt) = self.service.unlock(&locked).await.map_err(bus)?;
                unlocked = now_unlocked;
                if unlocked.is_empty() {
                    self.complete(prompt).await?;
                    unlocked = self.service.search_items(wanted).await.map_err(bus)?.0;
                }
            }
            let mut item = None;
            for found in unlocked {
                let lacks = match without {
                    Some(attribute) => self
                        .item_attributes(&found)
                        .await
                        .is_some_and(|attributes| !attributes.contains_key(attribute)),
                    None => true,
                };
                if lacks {
                    item = Some(found);
                    break;
                }
            }
            let Some(item) = item else {
                return Ok(None);
            };
            let secrets = self
                .service
                .get_secrets(std::slice::from_ref(&item), &self.session)
                .await
                .map_err(bus)?;
            Ok(secrets
                .get(&item)
                .map(|(_, _, value, _)| String::from_utf8_lossy(value).into_owned()))
        }

        async fn default_collection(&self) -> Result<CollectionProxy<'static>, SecretError> {
            let mut path = self.service.read_alias("default").await.map_err(bus)?;
            if path.as_str() == "/" {
                // GNOME Keyring's login keyring, when no alias was set.
                path = OwnedObjectPath::try_from("/org/freedesktop/secrets/collection/login")
                    .map_err(bus)?;
            }
            let (_, prompt) = self
                .service
                .unlock(std::slice::from_ref(&path))
                .await
                .map_err(|_| SecretError::NoKeyring)?;
            self.complete(prompt).await?;
            CollectionProxy::builder(&self.connection)
                .path(path)
                .map_err(bus)?
                .build()
                .await
                .map_err(bus)
        }

        /// Wait for a prompt (an unlock dialog) to be answered; `/` is none.
        async fn complete(&self, prompt: OwnedObjectPath) -> Result<(), SecretError> {
            if prompt.as_str() == "/" {
                return Ok(());
            }
            let prompt = PromptProxy::builder(&self.connection)
                .path(prompt)
                .map_err(bus)?
                .build()
                .await
                .map_err(bus)?;
            let mut completed = prompt.receive_completed().await.map_err(bus)?;
            prompt.prompt("").await.map_err(bus)?;
            match tokio::time::timeout(PROMPT_TIMEOUT, completed.next()).await {
                Ok(Some(signal)) => match signal.args() {
                    Ok(args) if !args.dismissed => Ok(()),
                    _ => Err(SecretError::Dismissed),
                },
                _ => Err(SecretError::Dismissed),
            }
        }
    }
}

/// Elsewhere (Windows, macOS): header values stay in the settings file, the
/// user's alone (on Windows in `%APPDATA%`, private to the user by its
/// ACL). The Credential Manager or the Keychain would be one more file
/// each beside this.
#[cfg(not(target_os = "linux"))]
pub struct SecretService;

#[cfg(not(target_os = "linux"))]
impl SecretService {
    pub async fn connect() -> Option<SecretService> {
        None
    }
    pub async fn keep_headers(&self, _settings: &Settings) -> Result<(), SecretError> {
        Err(SecretError::NoKeyring)
    }
    pub async fn fetch(
        &self,
        _subscription: &str,
        _first: bool,
        _name: &str,
    ) -> Result<Option<String>, SecretError> {
        Ok(None)
    }
}
