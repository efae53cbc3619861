//! OS notifications for stored events.
//!
//! Three parts: what a notification says ([`notification_text`],
//! [`notice`]), when bursts are folded into one summary ([`Bursts`], over
//! [`Coalescer`]: plain state with tests on made-up instants), and [`run`],
//! the task that only waits and hands over: events to [`Bursts`], what is to
//! be shown to the desktop's notification service
//! ([`super::notification_service`]), clicks to the app. Everything shown is
//! plain text built from untrusted server data, trimmed, with markup
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
// What a notification says and what its click asks for are the service's
// words (it shows the one and hands back the other); they are named here
// too, where the rest of the app has always found them.
pub use super::notification_service::{Click, NotificationText};

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

/// Notifications this close to each other are one burst; a quiet spell as
/// long ends it.
pub const BURST_WINDOW: Duration = Duration::from_secs(2);

/// How many notifications within [`BURST_WINDOW`] show on their own; the
/// next one starts the burst's summary.
pub const SHOWN_ON_THEIR_OWN: usize = 3;

/// How long the summary of a burst waits for more before it is shown or
/// updated: one update a second at most, however fast events come.
pub const SUMMARY_DELAY: Duration = Duration::from_secs(1);

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

/// Where a burst's summary says its messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummarySource {
    /// All from this subscription: the summary says its name, and a click
    /// opens its web app.
    One(Source),
    /// From more than one: the summary says so, and a click opens nothing.
    Several,
}

impl SummarySource {
    /// This source joined by an event from `source`.
    fn and(self, source: &Source) -> SummarySource {
        match self {
            SummarySource::One(same) if same.server == source.server => SummarySource::One(same),
            _ => SummarySource::Several,
        }
    }
}

/// What became of an event offered to [`Bursts::offer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Show its own notification now.
    OnItsOwn,
    /// Counted into the burst's summary, shown at [`Bursts::due`].
    IntoTheSummary,
}

/// A burst's summary notification, due to be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub text: NotificationText,
    pub click: Option<Click>,
    /// The summary on screen that this one updates in place, if any.
    pub replaces: Option<u32>,
}

/// The notifier's bookkeeping of bursts, without a desktop or a clock:
/// events offered at an instant, the summary's timer firing at an instant,
/// and what to show for each.
///
/// The first [`SHOWN_ON_THEIR_OWN`] notifications within [`BURST_WINDOW`]
/// show on their own; the rest of the burst is counted into one summary,
/// shown [`SUMMARY_DELAY`] after the first event it counts and updated in
/// place (same notification id) until the user closes it or a notification
/// shows on its own again.
#[derive(Debug)]
pub struct Bursts {
    coalescer: Coalescer,
    /// The summary's count of messages, when it has changed since it was
    /// last shown.
    pending: Option<u64>,
    /// `None` until an event (not only missed ones) joins the summary.
    source: Option<SummarySource>,
    /// When the pending summary is shown.
    due: Option<Instant>,
    /// The summary on screen, to update in place.
    shown: Option<u32>,
}

impl Default for Bursts {
    fn default() -> Self {
        Bursts {
            coalescer: Coalescer::new(BURST_WINDOW, SHOWN_ON_THEIR_OWN),
            pending: None,
            source: None,
            due: None,
            shown: None,
        }
    }
}

impl Bursts {
    /// An event that notifies, from `source`, announcing `messages`
    /// messages, at `now`.
    pub fn offer(&mut self, now: Instant, messages: u64, source: &Source) -> Offered {
        match self.coalescer.offer(now, messages) {
            Decision::Show => {
                // The burst is over: the next one starts a summary of its own.
                self.shown = None;
                self.source = None;
                Offered::OnItsOwn
            }
            Decision::Summary(total) => {
                self.count(now, total);
                self.source = Some(match self.source.take() {
                    None => SummarySource::One(source.clone()),
                    Some(known) => known.and(source),
                });
                Offered::IntoTheSummary
            }
        }
    }

    /// `count` events the notifier never saw (a flood outran it), at `now`:
    /// counted into the summary when they are part of a burst.
    pub fn missed(&mut self, now: Instant, count: u64) {
        if let Decision::Summary(total) = self.coalescer.offer(now, count) {
            self.count(now, total);
        }
    }

    fn count(&mut self, now: Instant, total: u64) {
        self.pending = Some(total);
        self.due.get_or_insert(now + SUMMARY_DELAY);
    }

    /// When the summary is to be shown next, if it has news.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The summary's timer fired at `now`: the summary to show, if it is
    /// due and has news. Its id, once shown, goes to [`Bursts::shown`].
    pub fn flush(&mut self, now: Instant) -> Option<Summary> {
        if self.due.is_none_or(|due| now < due) {
            return None;
        }
        self.due = None;
        let total = self.pending.take()?;
        let one = match &self.source {
            Some(SummarySource::One(source)) => Some(source),
            Some(SummarySource::Several) | None => None,
        };
        let text = NotificationText {
            summary: format!("{total} new messages"),
            body: match one {
                Some(source) => format!("from {}", source.name),
                None => "from several subscriptions".to_string(),
            },
            urgency: None,
        };
        let click = one
            .and_then(|source| source.web_app_url.as_deref())
            .and_then(safe_link)
            .map(|url| Click::OpenUrl {
                url,
                entry_id: None,
            });
        Some(Summary {
            text,
            click,
            replaces: self.shown,
        })
    }

    /// The summary was shown as notification `id`: later ones update it.
    pub fn shown(&mut self, id: u32) {
        self.shown = Some(id);
    }

    /// Notification `id` was closed. The summary, closed by the user: the
    /// burst's next update shows a new one.
    pub fn closed(&mut self, id: u32) {
        if self.shown == Some(id) {
            self.shown = None;
        }
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
    /// Notifications on, and not paused at `now`.
    pub fn notifies(&self, now: SystemTime) -> bool {
        self.enabled && !self.is_paused(now)
    }

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

/// The notification a stored event shows, and the subscription it names;
/// `None` when it shows none: notifications off (all of them, or this
/// subscription's), paused at `now`, the event's type only stored, or
/// nothing to say.
pub fn notice(
    stored: &StoredEvent,
    config: &NotifierConfig,
    now: SystemTime,
) -> Option<(NotificationText, Source)> {
    let source = Source::of(&stored.entry.server, config);
    if !config.notifies(now) || !source.notifications || stored.rule != TypeRule::Notify {
        return None;
    }
    let text = notification_text(&stored.event, &source.name)?;
    // With several subscriptions, every notification says whose it is.
    let text = if config.sources.len() > 1 {
        named(text, &source.name)
    } else {
        text
    };
    Some((text, source))
}

/// Show notifications for stored events until the engine goes away.
/// Without a notification service, notifications are skipped and logged
/// once; events are stored all the same. Clicks are sent to `clicks`.
pub async fn run(
    mut events: broadcast::Receiver<EngineEvent>,
    config: watch::Receiver<NotifierConfig>,
    clicks: mpsc::Sender<Click>,
) {
    let mut notifier = Notifier {
        bubbles: Bubbles::connect().await,
        bursts: Bursts::default(),
    };
    loop {
        let due = notifier.bursts.due();
        tokio::select! {
            received = events.recv() => match received {
                Ok(EngineEvent::Stored(stored)) => notifier.on_stored(&stored, &config).await,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    notifier.on_missed(missed, &config)
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            signal = notifier.bubbles.next_signal() => {
                if let Some(click) = notifier.on_signal(signal) {
                    let _ = clicks.send(click).await;
                }
            }
            () = until(due) => notifier.on_due().await,
        }
    }
}

/// What [`run`] hands over to: the bursts (what to show) and the bubbles
/// (the desktop showing it).
struct Notifier {
    bubbles: Bubbles,
    bursts: Bursts,
}

impl Notifier {
    /// A stored event: shown on its own, or counted into the summary.
    async fn on_stored(&mut self, stored: &StoredEvent, config: &watch::Receiver<NotifierConfig>) {
        let notice = notice(stored, &config.borrow(), crate::protocol::clock::now());
        let Some((text, source)) = notice else {
            return;
        };
        let messages = stored.event.unread_weight();
        if self.bursts.offer(Instant::now(), messages, &source) == Offered::OnItsOwn {
            let click = away_from_home(click_target(stored, &source), &source).await;
            self.bubbles.show(&text, None, click).await;
        }
    }

    /// A flood outran the notifier: what it missed goes into the summary.
    fn on_missed(&mut self, missed: u64, config: &watch::Receiver<NotifierConfig>) {
        if config.borrow().notifies(crate::protocol::clock::now()) {
            self.bursts.missed(Instant::now(), missed);
        }
    }

    /// A click or a close; what the click asks of the app, if anything.
    fn on_signal(&mut self, signal: Signal) -> Option<Click> {
        match signal {
            Signal::Invoked { id, action } => self.bubbles.waiters.invoked(id, &action),
            Signal::Closed { id } => {
                self.bubbles.waiters.closed(id);
                self.bursts.closed(id);
                None
            }
        }
    }

    /// The summary's time came: show it, or update it in place.
    async fn on_due(&mut self) {
        let Some(summary) = self.bursts.flush(Instant::now()) else {
            return;
        };
        let shown = self
            .bubbles
            .show(&summary.text, summary.replaces, summary.click)
            .await;
        if let Some(id) = shown {
            self.bursts.shown(id);
        }
    }
}

/// Ready at `due`; never without one.
async fn until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}

/// The notifications the notifier shows: the desktop's service (none
/// without a session, or once it went away), who waits for which click, and
/// whether a failure to show was logged already.
struct Bubbles {
    service: Option<NotificationService>,
    waiters: ClickWaiters,
    warned: bool,
}

impl Bubbles {
    async fn connect() -> Bubbles {
        let service = match NotificationService::connect().await {
            Ok(service) => Some(service),
            Err(error) => {
                tracing::warn!("cannot show notifications (is there a D-Bus session?): {error}");
                None
            }
        };
        Bubbles {
            service,
            waiters: ClickWaiters::default(),
            warned: false,
        }
    }

    /// Show one notification, replacing `replaces` when given; its id. A
    /// click on it (the default action) will send `click`, once.
    async fn show(
        &mut self,
        text: &NotificationText,
        replaces: Option<u32>,
        click: Option<Click>,
    ) -> Option<u32> {
        let service = self.service.as_ref()?;
        match service.show(text, replaces, click.is_some()).await {
            Ok(id) => {
                self.waiters.shown(id, click);
                Some(id)
            }
            Err(error) => {
                if !self.warned {
                    self.warned = true;
                    tracing::warn!(
                        "cannot show notifications (is a notification service running?): {error}"
                    );
                }
                None
            }
        }
    }

    /// The next click or close; never, without a service.
    async fn next_signal(&mut self) -> Signal {
        let Some(service) = self.service.as_mut() else {
            return std::future::pending().await;
        };
        match service.next_signal().await {
            Some(signal) => signal,
            None => {
                tracing::warn!("the notification service went away");
                self.service = None;
                std::future::pending().await
            }
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

    fn subscription(server: &str, name: &str) -> Source {
        Source {
            server: server.to_string(),
            name: name.to_string(),
            web_app_url: Some(format!("https://{name}.example/")),
            notifications: true,
        }
    }

    #[test]
    fn a_burst_shows_three_then_one_summary_updated_in_place() {
        let mut bursts = Bursts::default();
        let work = subscription("http://work.example/stream", "work");
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        for ms in [0, 10, 20] {
            assert_eq!(bursts.offer(at(ms), 1, &work), Offered::OnItsOwn);
        }
        assert_eq!(bursts.due(), None, "no summary yet");
        assert_eq!(bursts.offer(at(30), 1, &work), Offered::IntoTheSummary);
        assert_eq!(bursts.offer(at(40), 1, &work), Offered::IntoTheSummary);
        // Shown once, a delay after the first event it counts.
        let due = at(30) + SUMMARY_DELAY;
        assert_eq!(bursts.due(), Some(due));
        assert_eq!(
            bursts.flush(due - Duration::from_millis(1)),
            None,
            "not yet"
        );
        let summary = bursts.flush(due).expect("the summary");
        assert_eq!(summary.text.summary, "5 new messages");
        assert_eq!(summary.text.body, "from work");
        assert_eq!(
            summary.click,
            Some(Click::OpenUrl {
                url: "https://work.example/".into(),
                entry_id: None
            })
        );
        assert_eq!(summary.replaces, None, "a new bubble");
        bursts.shown(7);
        assert_eq!(bursts.due(), None);
        assert_eq!(bursts.flush(at(5000)), None, "nothing new to say");
        // More of the burst: the same bubble, updated.
        let later = at(1100);
        assert_eq!(bursts.offer(later, 3, &work), Offered::IntoTheSummary);
        let summary = bursts.flush(later + SUMMARY_DELAY).expect("the update");
        assert_eq!(summary.text.summary, "8 new messages");
        assert_eq!(summary.replaces, Some(7));
    }

    #[test]
    fn a_summary_of_several_subscriptions_says_so_and_opens_nothing() {
        let mut bursts = Bursts::default();
        let work = subscription("http://work.example/stream", "work");
        let home = subscription("http://home.example/stream", "home");
        let start = Instant::now();
        for n in 0..4 {
            bursts.offer(start, 1, &work);
            assert_eq!(bursts.flush(start), None, "n = {n}: not due yet");
        }
        bursts.offer(start, 1, &home);
        // Back to the first: several it stays.
        bursts.offer(start, 1, &work);
        let summary = bursts.flush(start + SUMMARY_DELAY).expect("the summary");
        assert_eq!(summary.text.summary, "6 new messages");
        assert_eq!(summary.text.body, "from several subscriptions");
        assert_eq!(summary.click, None);
    }

    #[test]
    fn events_missed_in_a_flood_are_counted_and_change_no_source() {
        let mut bursts = Bursts::default();
        let work = subscription("http://work.example/stream", "work");
        let start = Instant::now();
        for _ in 0..3 {
            bursts.offer(start, 1, &work);
        }
        bursts.offer(start, 1, &work);
        bursts.missed(start, 500);
        let summary = bursts.flush(start + SUMMARY_DELAY).expect("the summary");
        assert_eq!(summary.text.summary, "504 new messages");
        assert_eq!(summary.text.body, "from work");
        // Missed ones alone, in a burst of their own: whose, nobody knows.
        let mut bursts = Bursts::default();
        for _ in 0..3 {
            bursts.missed(start, 1);
        }
        assert_eq!(bursts.due(), None, "the first ones would have shown");
        bursts.missed(start, 100);
        let summary = bursts.flush(start + SUMMARY_DELAY).expect("the summary");
        assert_eq!(summary.text.summary, "103 new messages");
        assert_eq!(summary.text.body, "from several subscriptions");
    }

    #[test]
    fn a_closed_summary_or_a_quiet_spell_starts_a_new_bubble() {
        let mut bursts = Bursts::default();
        let work = subscription("http://work.example/stream", "work");
        let home = subscription("http://home.example/stream", "home");
        let start = Instant::now();
        for _ in 0..4 {
            bursts.offer(start, 1, &work);
        }
        bursts.flush(start + SUMMARY_DELAY).expect("the summary");
        bursts.shown(7);
        // Another notification closed: the summary stays on screen.
        bursts.closed(3);
        bursts.offer(start + SUMMARY_DELAY, 1, &work);
        let update = bursts.flush(start + SUMMARY_DELAY * 2).expect("update");
        assert_eq!(update.replaces, Some(7));
        // The user closed it: the next update is a new bubble.
        bursts.closed(7);
        let last = start + SUMMARY_DELAY * 2;
        bursts.offer(last, 1, &work);
        let update = bursts.flush(last + SUMMARY_DELAY).expect("update");
        assert_eq!(update.replaces, None);
        bursts.shown(8);
        // A quiet spell ends the burst: notifications show on their own
        // again, and the next burst's summary is a bubble of its own, from
        // its own subscriptions.
        let after = last + BURST_WINDOW + Duration::from_millis(1);
        for n in 0..3 {
            assert_eq!(
                bursts.offer(after, 1, &home),
                Offered::OnItsOwn,
                "{n} after the quiet spell"
            );
        }
        bursts.offer(after, 1, &home);
        let summary = bursts.flush(after + SUMMARY_DELAY).expect("summary");
        assert_eq!(summary.replaces, None);
        assert_eq!(summary.text.body, "from home");
        assert_eq!(summary.text.summary, "4 new messages");
    }

    #[test]
    fn which_events_notify_and_what_they_say() {
        let stored = |server: &str, rule| StoredEvent {
            subscription: None,
            entry: crate::core::store::HistoryEntry {
                id: 1,
                server: server.to_string(),
                event_type: "message".into(),
                event_id: None,
                data: String::new(),
                kind: "message".into(),
                unread_weight: 1,
                received_at_ms: 0,
                read: false,
            },
            event: AppEvent::Message(Message {
                title: Some("Deploy".into()),
                text: "v2 is live".into(),
                url: None,
                urgency: None,
                malformed: None,
            }),
            rule,
        };
        let work = subscription("http://work.example/stream", "work");
        let mut config = NotifierConfig {
            enabled: true,
            paused_until: None,
            sources: vec![work.clone()],
            quiet_hours: None,
            time_zone: None,
        };
        let now = SystemTime::now();
        let event = stored("http://work.example/stream", TypeRule::Notify);
        let (text, source) = notice(&event, &config, now).expect("shown");
        assert_eq!(text.summary, "Deploy", "one subscription: no name");
        assert_eq!(source, work);
        assert_eq!(
            notice(
                &stored("http://work.example/stream", TypeRule::StoreOnly),
                &config,
                now
            ),
            None
        );
        // A stream not subscribed to is named by its host.
        let (_, other) = notice(
            &stored("http://other:8080/s", TypeRule::Notify),
            &config,
            now,
        )
        .expect("shown");
        assert_eq!(other.name, "other");
        // Several subscriptions: each notification names its own.
        config
            .sources
            .push(subscription("http://home.example/stream", "home"));
        let (text, _) = notice(&event, &config, now).expect("shown");
        assert_eq!(text.summary, "work: Deploy");
        config.sources[0].notifications = false;
        assert_eq!(notice(&event, &config, now), None, "this one's switch");
        config.sources[0].notifications = true;
        config.paused_until = Some(now + Duration::from_secs(60));
        assert_eq!(notice(&event, &config, now), None, "paused");
        assert!(!config.notifies(now));
        config.paused_until = None;
        config.enabled = false;
        assert_eq!(notice(&event, &config, now), None, "all off");
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
