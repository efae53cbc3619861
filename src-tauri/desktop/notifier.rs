//! OS notifications for stored events.
//!
//! Two halves: what a notification says and when bursts are folded into one
//! ([`notification_text`], [`Coalescer`]: plain functions with tests), and
//! the task that shows them through the desktop's notification service
//! ([`super::notification_service`]) and hands their clicks to the app. Everything
//! shown is plain text built from untrusted server data, trimmed, with markup
//! characters escaped because some notification servers render a subset of
//! HTML in the body.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{broadcast, mpsc, watch};

use crate::core::engine::{EngineEvent, StoredEvent};
use crate::core::settings::TypeRule;
use crate::protocol::feed::{AppEvent, Login};
use crate::protocol::url_policy::safe_link;

use super::notification_service::{ClickWaiters, NotificationService, Signal};

/// What a notification shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    pub summary: String,
    pub body: String,
    pub urgency: Option<String>,
}

const MAX_SUMMARY_CHARS: usize = 80;
const MAX_BODY_CHARS: usize = 300;

/// The text for an event, or `None` when it shows nothing (a confirm step,
/// a notification announcing zero messages, the server closing).
pub fn notification_text(event: &AppEvent, server_name: &str) -> Option<NotificationText> {
    let text = |summary: String, body: String| {
        Some(NotificationText {
            summary: trim(&summary, MAX_SUMMARY_CHARS, false),
            body: trim(&body, MAX_BODY_CHARS, true),
            urgency: None,
        })
    };
    match event {
        AppEvent::Notification { count: 0 } => None,
        AppEvent::Notification { count: 1 } => {
            text("1 new message".into(), format!("from {server_name}"))
        }
        AppEvent::Notification { count } => text(
            format!("{count} new messages"),
            format!("from {server_name}"),
        ),
        AppEvent::Login(Login::ScanQrCode { .. }) => text(
            "Scan the QR code to log in".into(),
            format!("{server_name} is waiting for your phone"),
        ),
        AppEvent::Login(Login::LoggedIn { user, .. }) => text(
            format!(
                "Logged in as {}",
                user.name.as_deref().unwrap_or("unknown user")
            ),
            server_name.to_string(),
        ),
        AppEvent::Login(Login::LoggedOut { .. }) => {
            text("Logged out".into(), server_name.to_string())
        }
        AppEvent::Login(Login::ConfirmLogin { .. }) | AppEvent::ServerClosed => None,
        AppEvent::Message(message) => {
            let summary = message
                .title
                .clone()
                .unwrap_or_else(|| format!("Message from {server_name}"));
            let mut shown = text(summary, message.text.clone())?;
            shown.urgency = message.urgency.clone();
            Some(shown)
        }
    }
}

/// `text` with the subscription's name in front of its summary, unless it
/// says the name already ("2 new messages from work").
pub fn named(text: NotificationText, name: &str) -> NotificationText {
    if name.is_empty() || text.summary.contains(name) || text.body.contains(name) {
        return text;
    }
    NotificationText {
        summary: trim(
            &format!("{name}: {}", text.summary),
            MAX_SUMMARY_CHARS,
            false,
        ),
        ..text
    }
}

/// Plain text cut to `max` characters, without control characters; in the
/// body (which the specification lets servers render as markup) the markup
/// characters are escaped.
fn trim(text: &str, max: usize, escape: bool) -> String {
    let mut out = String::new();
    let text = crate::core::description::without_direction_controls(text);
    for (count, c) in text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .enumerate()
    {
        if count == max {
            out.push('…');
            break;
        }
        match c {
            _ if !escape => out.push(c),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// Decides whether a notification shows on its own or joins a summary.
///
/// More than `max_individual` within `window` is a burst: from then on, the
/// events of the burst are counted into one summary notification, which is
/// updated in place rather than stacking dozens of bubbles.
#[derive(Debug)]
pub struct Coalescer {
    recent: VecDeque<Instant>,
    window: Duration,
    max_individual: usize,
    /// Messages counted into the current summary.
    burst_messages: u64,
    last_offer: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Show,
    /// Show (or update) the summary: this many new messages in the burst.
    Summary(u64),
}

impl Coalescer {
    pub fn new(window: Duration, max_individual: usize) -> Self {
        Coalescer {
            recent: VecDeque::new(),
            window,
            max_individual,
            burst_messages: 0,
            last_offer: None,
        }
    }

    /// One more notification, announcing `messages` messages, at `now`.
    pub fn offer(&mut self, now: Instant, messages: u64) -> Decision {
        // A quiet window ends the burst.
        if self
            .last_offer
            .is_some_and(|last| now.saturating_duration_since(last) > self.window)
        {
            self.burst_messages = 0;
        }
        self.last_offer = Some(now);
        while self
            .recent
            .front()
            .is_some_and(|first| now.saturating_duration_since(*first) > self.window)
        {
            self.recent.pop_front();
        }
        if self.burst_messages == 0 && self.recent.len() < self.max_individual {
            self.recent.push_back(now);
            return Decision::Show;
        }
        if self.burst_messages == 0 {
            // The ones shown on their own in this window join the count.
            self.burst_messages = self.recent.len() as u64;
        }
        self.burst_messages += messages.max(1);
        Decision::Summary(self.burst_messages)
    }
}

/// What the notifier needs from the settings, kept current by the tray
/// process through a watch channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierConfig {
    pub enabled: bool,
    /// Notifications paused until then; `Some(UNIX_EPOCH + MAX)`-like far
    /// future for "until resumed".
    pub paused_until: Option<SystemTime>,
    /// The subscriptions events come from, by their server key.
    pub sources: Vec<Source>,
    /// Quiet hours as minutes after local midnight, from and to.
    pub quiet_hours: Option<(u32, u32)>,
    /// The time zone of the quiet hours; `None` for the system's, looked up
    /// at each check, so that a daylight saving change or a new zone is
    /// followed without a restart.
    pub time_zone: Option<jiff::tz::TimeZone>,
}

/// A subscription as its notifications show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The stream as the history keys it.
    pub server: String,
    /// Shown as the sender: "from NAME".
    pub name: String,
    /// What a click opens when the event has no link of its own.
    pub web_app_url: Option<String>,
    /// This subscription's own switch.
    pub notifications: bool,
}

impl Source {
    /// An event's source: its subscription, or for a stream not subscribed
    /// to (handed over by `listen --store`) its host and origin.
    fn of(server: &str, config: &NotifierConfig) -> Source {
        if let Some(source) = config.sources.iter().find(|source| source.server == server) {
            return source.clone();
        }
        let url = url::Url::parse(server).ok();
        Source {
            server: server.to_string(),
            name: url
                .as_ref()
                .and_then(|url| url.host_str().map(str::to_string))
                .unwrap_or_default(),
            web_app_url: url.as_ref().map(crate::protocol::url_policy::web_app_of),
            notifications: true,
        }
    }
}

impl NotifierConfig {
    /// Paused by the user, or inside the quiet hours.
    pub fn is_paused(&self, now: SystemTime) -> bool {
        if self.paused_until.is_some_and(|until| now < until) {
            return true;
        }
        let Some((from, to)) = self.quiet_hours else {
            return false;
        };
        let zone = self
            .time_zone
            .clone()
            .unwrap_or_else(jiff::tz::TimeZone::system);
        let Ok(now) = jiff::Timestamp::try_from(now) else {
            return false;
        };
        let local = now.to_zoned(zone);
        let minute = local.hour() as u32 * 60 + local.minute() as u32;
        if from <= to {
            (from..to).contains(&minute)
        } else {
            minute >= from || minute < to
        }
    }
}

/// What clicking a notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Click {
    /// Open this http(s) URL in the browser; mark the entry read.
    OpenUrl { url: String, entry_id: Option<i64> },
    /// Open the window at the login view (a QR code to scan).
    OpenLogin { entry_id: i64 },
}

/// The click target of a stored event.
pub fn click_target(stored: &StoredEvent, source: &Source) -> Option<Click> {
    let entry_id = stored.entry.id;
    match &stored.event {
        AppEvent::Login(Login::ScanQrCode { .. }) => return Some(Click::OpenLogin { entry_id }),
        AppEvent::Message(message) => {
            if let Some(url) = message.url.as_deref().and_then(safe_link) {
                return Some(Click::OpenUrl {
                    url,
                    entry_id: Some(entry_id),
                });
            }
        }
        _ => {}
    }
    let fallback = source.web_app_url.as_deref().and_then(safe_link)?;
    Some(Click::OpenUrl {
        url: fallback,
        entry_id: Some(entry_id),
    })
}

/// A click's link, unless it leads from a server on the internet to this
/// computer or its network; then the subscription's web app (and the log
/// says why).
pub async fn away_from_home(click: Option<Click>, source: &Source) -> Option<Click> {
    let Some(Click::OpenUrl { url, entry_id }) = click else {
        return click;
    };
    let (Ok(server), Ok(link)) = (url::Url::parse(&source.server), url::Url::parse(&url)) else {
        return Some(Click::OpenUrl { url, entry_id });
    };
    if !crate::protocol::url_policy::points_inward(&server, &link).await {
        return Some(Click::OpenUrl { url, entry_id });
    }
    tracing::warn!(
        "the link of entry {entry_id:?} is refused: {}; a click opens the web app instead",
        crate::protocol::url_policy::UrlRefused::Inward(crate::protocol::url_policy::redacted(
            &link
        ))
    );
    let fallback = source.web_app_url.as_deref().and_then(safe_link)?;
    Some(Click::OpenUrl {
        url: fallback,
        entry_id,
    })
}

/// Show one notice about the app itself (not an event), on a connection
/// of its own; logged when no notification service answers.
pub async fn tell(text: NotificationText) {
    let shown = match NotificationService::connect().await {
        Ok(service) => service.show(&text, None, false).await.map(|_| ()),
        Err(error) => Err(error),
    };
    if let Err(error) = shown {
        tracing::warn!("{}: {} (not shown: {error})", text.summary, text.body);
    }
}

/// Show notifications for stored events until the engine goes away.
/// Without a notification service, notifications are skipped and logged
/// once; events are stored all the same. Clicks are sent to `clicks`.
pub async fn run(
    mut events: broadcast::Receiver<EngineEvent>,
    config: watch::Receiver<NotifierConfig>,
    clicks: mpsc::Sender<Click>,
) {
    let mut service = match NotificationService::connect().await {
        Ok(service) => Some(service),
        Err(error) => {
            tracing::warn!("cannot show notifications (is there a D-Bus session?): {error}");
            None
        }
    };
    let mut waiters = ClickWaiters::default();
    let mut coalescer = Coalescer::new(Duration::from_secs(2), 3);
    let mut summary_id: Option<u32> = None;
    let mut pending_summary: Option<u64> = None;
    // Where the burst's events came from: one subscription, or several
    // (`None` inside), which the summary says.
    let mut summary_source: Option<Option<Source>> = None;
    let mut warned = false;
    let flush_every = Duration::from_secs(1);
    let mut flush_at: Option<tokio::time::Instant> = None;
    loop {
        let flush = async {
            match flush_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let signal = async {
            match service.as_mut() {
                Some(service) => service.next_signal().await,
                None => std::future::pending().await,
            }
        };
        let stored = tokio::select! {
            received = events.recv() => match received {
                Ok(EngineEvent::Stored(stored)) => Some(stored),
                Ok(_) => None,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // A flood outran us: count what we missed into the summary.
                    let current = config.borrow().clone();
                    if current.enabled && !current.is_paused(crate::protocol::clock::now()) {
                        if let Decision::Summary(total) = coalescer.offer(Instant::now(), missed) {
                            pending_summary = Some(total);
                            flush_at.get_or_insert_with(|| tokio::time::Instant::now() + flush_every);
                        }
                    }
                    None
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            signal = signal => {
                match signal {
                    Some(Signal::Invoked { id, action }) => {
                        if let Some(click) = waiters.invoked(id, &action) {
                            let _ = clicks.send(click).await;
                        }
                    }
                    Some(Signal::Closed { id }) => {
                        waiters.closed(id);
                        if summary_id == Some(id) {
                            // Closed by the user: the next burst starts a new one.
                            summary_id = None;
                        }
                    }
                    None => {
                        tracing::warn!("the notification service went away");
                        service = None;
                    }
                }
                None
            }
            _ = flush => {
                flush_at = None;
                if let Some(total) = pending_summary.take() {
                    let source = summary_source.clone().flatten();
                    let text = NotificationText {
                        summary: format!("{total} new messages"),
                        body: match &source {
                            Some(source) => format!("from {}", source.name),
                            None => "from several subscriptions".to_string(),
                        },
                        urgency: None,
                    };
                    let click = source
                        .and_then(|source| source.web_app_url)
                        .as_deref()
                        .and_then(safe_link)
                        .map(|url| Click::OpenUrl { url, entry_id: None });
                    if let Some(id) = show(service.as_ref(), &mut waiters, &text, summary_id, click, &mut warned).await {
                        summary_id = Some(id);
                    }
                }
                None
            }
        };
        let Some(stored) = stored else { continue };
        let current = config.borrow().clone();
        let source = Source::of(&stored.entry.server, &current);
        if !current.enabled
            || !source.notifications
            || current.is_paused(crate::protocol::clock::now())
            || stored.rule != TypeRule::Notify
        {
            continue;
        }
        let Some(mut text) = notification_text(&stored.event, &source.name) else {
            continue;
        };
        // With several subscriptions, every notification says whose it is.
        if current.sources.len() > 1 {
            text = named(text, &source.name);
        }
        match coalescer.offer(Instant::now(), stored.event.unread_weight()) {
            Decision::Show => {
                summary_id = None;
                summary_source = None;
                let click = away_from_home(click_target(&stored, &source), &source).await;
                show(
                    service.as_ref(),
                    &mut waiters,
                    &text,
                    None,
                    click,
                    &mut warned,
                )
                .await;
            }
            Decision::Summary(total) => {
                pending_summary = Some(total);
                summary_source = Some(match summary_source.take() {
                    None => Some(source),
                    Some(Some(same)) if same.server == source.server => Some(same),
                    Some(_) => None,
                });
                flush_at.get_or_insert_with(|| tokio::time::Instant::now() + flush_every);
            }
        }
    }
}

/// Show one notification, replacing `replaces` when given; its id. A click
/// on it (the default action) will send `click`, once.
async fn show(
    service: Option<&NotificationService>,
    waiters: &mut ClickWaiters,
    text: &NotificationText,
    replaces: Option<u32>,
    click: Option<Click>,
    warned: &mut bool,
) -> Option<u32> {
    let service = service?;
    match service.show(text, replaces, click.is_some()).await {
        Ok(id) => {
            waiters.shown(id, click);
            Some(id)
        }
        Err(error) => {
            if !*warned {
                *warned = true;
                tracing::warn!(
                    "cannot show notifications (is a notification service running?): {error}"
                );
            }
            None
        }
    }
}

/// Open an http(s) URL in the default browser. `SSETRAY_OPENER` names
/// another program to use (tests point it at a recorder).
pub fn open_in_browser(url: &str) -> Result<(), String> {
    let Some(url) = safe_link(url) else {
        return Err(format!(
            "refusing to open {url:?}: only http and https links are opened"
        ));
    };
    let opener = std::env::var("SSETRAY_OPENER")
        .ok()
        .filter(|o| !o.is_empty());
    let mut command = match opener {
        Some(program) => std::process::Command::new(program),
        None if cfg!(target_os = "macos") => std::process::Command::new("open"),
        None if cfg!(windows) => {
            let mut command = std::process::Command::new("explorer");
            command.arg(&url);
            return command
                .spawn()
                .map(|_| ())
                .map_err(|error| error.to_string());
        }
        None => std::process::Command::new("xdg-open"),
    };
    command
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start the browser opener: {error}"))?;
    // Reap it in the background so no zombie stays.
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::feed::{Message, User};

    #[test]
    fn texts_for_each_kind() {
        let server = "example.com";
        assert_eq!(
            notification_text(&AppEvent::Notification { count: 12 }, server)
                .unwrap()
                .summary,
            "12 new messages"
        );
        assert_eq!(
            notification_text(&AppEvent::Notification { count: 0 }, server),
            None
        );
        let user = User {
            name: Some("Ada".into()),
            avatar: None,
        };
        let logged_in = AppEvent::Login(Login::LoggedIn {
            uuid: "u".into(),
            user,
        });
        assert_eq!(
            notification_text(&logged_in, server).unwrap().summary,
            "Logged in as Ada"
        );
        let scan = AppEvent::Login(Login::ScanQrCode {
            uuid: "u".into(),
            qr_png_base64: String::new(),
        });
        assert_eq!(
            notification_text(&scan, server).unwrap().summary,
            "Scan the QR code to log in"
        );
        let hostile = AppEvent::Message(Message {
            title: None,
            text: format!("<img src=x onerror=alert(1)>{}", "z".repeat(5000)),
            url: None,
            urgency: None,
            malformed: None,
        });
        let shown = notification_text(&hostile, server).unwrap();
        assert_eq!(shown.summary, "Message from example.com");
        assert!(shown.body.starts_with("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(shown.body.chars().count() < 400);
    }

    #[test]
    fn bursts_fold_into_one_summary() {
        let mut coalescer = Coalescer::new(Duration::from_secs(2), 3);
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(coalescer.offer(at(0), 1), Decision::Show);
        assert_eq!(coalescer.offer(at(10), 1), Decision::Show);
        assert_eq!(coalescer.offer(at(20), 1), Decision::Show);
        // The fourth within 2 s starts a summary that counts all of them.
        assert_eq!(coalescer.offer(at(30), 1), Decision::Summary(4));
        let mut last = Decision::Show;
        for n in 0..8 {
            last = coalescer.offer(at(40 + n), 1);
        }
        assert_eq!(last, Decision::Summary(12));
        // After a quiet spell, single notifications show again.
        assert_eq!(coalescer.offer(at(5000), 1), Decision::Show);
    }

    #[test]
    fn only_http_links_are_ever_opened() {
        assert_eq!(
            safe_link("https://example.com/a").as_deref(),
            Some("https://example.com/a")
        );
        assert_eq!(
            safe_link(" http://example.com").as_deref(),
            Some("http://example.com/")
        );
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,x",
            "ftp://x/",
            "mailto:a@b",
            "http://",
            "/relative",
            "",
        ] {
            assert_eq!(safe_link(bad), None, "{bad}");
        }
        assert!(open_in_browser("javascript:alert(1)").is_err());
    }

    #[test]
    fn with_several_subscriptions_each_notification_names_its_own() {
        let message = NotificationText {
            summary: "Deploy".into(),
            body: "v2 is live".into(),
            urgency: None,
        };
        assert_eq!(named(message.clone(), "work").summary, "work: Deploy");
        let counted = NotificationText {
            summary: "3 new messages".into(),
            body: "from work".into(),
            urgency: None,
        };
        assert_eq!(named(counted.clone(), "work"), counted, "said already");
        assert_eq!(named(message.clone(), ""), message);
        let spoof = NotificationText {
            summary: trim("\u{202E}gnp.exe", MAX_SUMMARY_CHARS, false),
            body: String::new(),
            urgency: None,
        };
        assert_eq!(spoof.summary, "gnp.exe", "no direction override");
    }

    #[test]
    fn quiet_hours_over_midnight() {
        let config = |quiet| NotifierConfig {
            enabled: true,
            paused_until: None,
            sources: Vec::new(),
            quiet_hours: quiet,
            time_zone: Some(jiff::tz::TimeZone::fixed(jiff::tz::offset(1))),
        };
        let at = |hour: u64, minute: u64| {
            std::time::UNIX_EPOCH + Duration::from_secs(86_400 * 1000 + hour * 3600 + minute * 60)
        };
        // 22:00 to 07:00 local, one hour east of UTC.
        let night = config(Some((22 * 60, 7 * 60)));
        assert!(night.is_paused(at(21, 30)), "22:30 local");
        assert!(night.is_paused(at(5, 0)), "06:00 local");
        assert!(!night.is_paused(at(6, 0)), "07:00 local");
        assert!(!night.is_paused(at(12, 0)));
        let lunch = config(Some((12 * 60, 13 * 60)));
        assert!(lunch.is_paused(at(11, 15)));
        assert!(!lunch.is_paused(at(12, 15)));
        assert!(!config(None).is_paused(at(3, 0)));
    }

    #[test]
    fn quiet_hours_follow_daylight_saving_time() {
        // Central Europe: UTC+1 in winter, UTC+2 from the last Sunday of
        // March. Quiet 22:00 to 07:00 local time, on either side of it.
        let config = NotifierConfig {
            enabled: true,
            paused_until: None,
            sources: Vec::new(),
            quiet_hours: Some((22 * 60, 7 * 60)),
            time_zone: Some(jiff::tz::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()),
        };
        let utc = |text: &str| -> SystemTime { text.parse::<jiff::Timestamp>().unwrap().into() };
        // Winter: 06:30 UTC is 07:30 local, not quiet; 05:30 UTC is 06:30.
        assert!(!config.is_paused(utc("2026-01-15T06:30:00Z")));
        assert!(config.is_paused(utc("2026-01-15T05:30:00Z")));
        // Summer: 05:30 UTC is 07:30 local, no longer quiet; 20:30 UTC is
        // 22:30 local, quiet (an offset read in winter would say 21:30).
        assert!(!config.is_paused(utc("2026-07-15T05:30:00Z")));
        assert!(config.is_paused(utc("2026-07-15T20:30:00Z")));
    }

    #[test]
    fn spaced_notifications_never_coalesce() {
        let mut coalescer = Coalescer::new(Duration::from_secs(2), 3);
        let start = Instant::now();
        for n in 0..20 {
            assert_eq!(
                coalescer.offer(start + Duration::from_millis(n * 800), 1),
                Decision::Show
            );
        }
    }

    #[tokio::test]
    async fn a_link_from_a_server_on_the_internet_into_this_network_opens_the_web_app() {
        let source = |server: &str| Source {
            server: server.to_string(),
            name: "alerts".into(),
            web_app_url: Some("https://app.example/".into()),
            notifications: true,
        };
        let click = |url: &str| {
            Some(Click::OpenUrl {
                url: url.to_string(),
                entry_id: Some(7),
            })
        };
        let public = source("http://93.184.215.14/stream?channel=a");
        for inward in [
            "http://127.0.0.1:6379/",
            "http://localhost:8080/admin",
            "http://192.168.1.1/reboot",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
        ] {
            assert_eq!(
                away_from_home(click(inward), &public).await,
                click("https://app.example/"),
                "{inward}"
            );
        }
        // Its own origin and other public hosts are opened as they are.
        for fine in ["http://93.184.215.14/item/1", "https://151.101.1.69/x"] {
            assert_eq!(away_from_home(click(fine), &public).await, click(fine));
        }
        // A server at home may link to its neighbours, as before.
        let home = source("http://192.168.1.10:5000/stream");
        assert_eq!(
            away_from_home(click("http://192.168.1.1/"), &home).await,
            click("http://192.168.1.1/")
        );
    }
}
