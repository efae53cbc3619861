//! One HTTP response read as an event stream.
//!
//! Opening checks what the standard asks of a response before anything is
//! parsed (status 200 and `text/event-stream`; 204 means stop for good) and
//! turns every other answer into a [`OpenError`] that says in words what was
//! found, for the connection state a user reads. Reading then pulls network
//! reads through the [`Parser`]. Reconnecting is the client's business, not
//! this file's: a `Connection` lives exactly as long as one response.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;

use super::parser::{Item, Parser};

/// Redirects followed at most, as reqwest's own default.
pub const MAX_REDIRECTS: usize = 10;

/// The longest last event id sent back as `Last-Event-ID` and kept as a
/// resume point. A server that sends a longer one would have every later
/// request carry it, and one that then refuses such a request (HTTP 431)
/// would never be heard again.
pub const MAX_RESUME_POINT_BYTES: usize = 1024;

/// What of a last event id may be used to resume: the id itself, or
/// nothing when it is too long to send.
pub fn resume_point(last_event_id: &str) -> &str {
    if last_event_id.len() > MAX_RESUME_POINT_BYTES {
        ""
    } else {
        last_event_id
    }
}

/// Why a response was not an event stream, or why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// 204 No Content: the server asks the client to stop reconnecting.
    ServerAskedToStop,
    /// 5xx: the server is in trouble; retry on the normal schedule.
    ServerError(String),
    /// A 4xx status: the server refuses this request. Retried slowly.
    Refused { status: u16, reason: String },
    /// Any other status, the wrong content type or a redirect not followed:
    /// a maintenance page, a wrong URL. Retried slowly, since such pages do
    /// go away.
    NotAStream(String),
    /// No response at all: DNS, refused, TLS, timeout. `reason` in a
    /// user's words, `detail` the whole error chain.
    Network {
        reason: String,
        detail: String,
        /// The fingerprint of a certificate refused, for "Trust this
        /// certificate".
        certificate: Option<String>,
    },
}

impl OpenError {
    pub fn reason(&self) -> String {
        match self {
            OpenError::ServerAskedToStop => "the server asked to stop (HTTP 204)".to_string(),
            OpenError::ServerError(reason)
            | OpenError::Refused { reason, .. }
            | OpenError::NotAStream(reason)
            | OpenError::Network { reason, .. } => reason.clone(),
        }
    }

    /// The whole error chain, where there is more to say than the reason.
    pub fn detail(&self) -> Option<&str> {
        match self {
            OpenError::Network { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// No route to the server: the machine is offline (or its network
    /// cannot reach the server's), not the server down.
    pub fn is_offline(&self) -> bool {
        matches!(self, OpenError::Network { reason, .. } if reason.starts_with(OFFLINE))
    }

    /// The fingerprint of the certificate refused, if that was the failure.
    pub fn refused_certificate(&self) -> Option<&str> {
        match self {
            OpenError::Network { certificate, .. } => certificate.as_deref(),
            _ => None,
        }
    }

    /// A wrong status or content type: retried on the slow schedule.
    pub fn is_slow(&self) -> bool {
        matches!(self, OpenError::Refused { .. } | OpenError::NotAStream(_))
    }

    /// A refusal that may be the request's fault rather than the user's
    /// (credentials, URL) or the server's load: what a resume point the
    /// server cannot take would cause (400, 413, 422, 431...).
    pub fn may_blame_the_resume_point(&self) -> bool {
        match self {
            OpenError::Refused { status, .. } => {
                !matches!(status, 401 | 403 | 404 | 405 | 407 | 408 | 410 | 429)
            }
            _ => false,
        }
    }
}

/// The reason given when there is no route to the server.
const OFFLINE: &str = "Offline: no route to the server";

/// An open event stream.
pub struct Connection {
    response: reqwest::Response,
}

/// The request headers the standard asks for, plus the user's own.
pub fn request_headers(extra: &HeaderMap, last_event_id: &str) -> HeaderMap {
    let mut headers = extra.clone();
    headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let last_event_id = resume_point(last_event_id);
    if !last_event_id.is_empty() {
        // The parser never keeps an id with NUL; CR and LF end lines; so the
        // id is a valid header value unless it holds other control bytes,
        // which a header cannot carry. Such an id is then not sent.
        if let Ok(value) = HeaderValue::from_str(last_event_id) {
            headers.insert("last-event-id", value);
        }
    }
    headers
}

/// Where a redirect leads, if the URL policy lets it be followed.
fn redirect_target(from: &url::Url, location: &str) -> Result<url::Url, OpenError> {
    crate::protocol::url_policy::redirect_target(from, location).map_err(|refused| {
        let shown: String = location.chars().take(120).collect();
        OpenError::NotAStream(format!("refused a redirect to {shown:?}: {refused}"))
    })
}

impl Connection {
    /// Send the request and check the response, following redirects.
    ///
    /// Redirects are followed here rather than by reqwest so that the user's
    /// headers (a token) and `Last-Event-ID` go only to the origin the user
    /// configured: a hop to another origin gets the standard headers alone.
    ///
    /// The wait for the response head has no timeout of its own: Flask-SSE
    /// sends not even its headers before the first event, which on a quiet
    /// channel may be hours away. TCP keepalive and the client's clock-jump
    /// check cover a peer that died meanwhile.
    pub async fn open(
        http: &reqwest::Client,
        url: &url::Url,
        extra: &HeaderMap,
        last_event_id: &str,
    ) -> Result<Connection, OpenError> {
        let mut current = url.clone();
        let mut visited: Vec<url::Url> = Vec::new();
        for _ in 0..=MAX_REDIRECTS {
            let headers = if crate::protocol::url_policy::may_carry_secrets(url, &current) {
                request_headers(extra, last_event_id)
            } else {
                request_headers(&HeaderMap::new(), "")
            };
            let response = http
                .get(current.clone())
                .headers(headers)
                .send()
                .await
                .map_err(|error| network_failure(&error.without_url()))?;
            let status = response.status();
            let followed = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            match response.headers().get(LOCATION) {
                Some(location) if followed => {
                    let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
                    let next = redirect_target(&current, &location)?;
                    if crate::protocol::url_policy::points_inward(url, &next).await {
                        return Err(OpenError::NotAStream(format!(
                            "refused a redirect to {:?}: {}",
                            shown_url(&next),
                            crate::protocol::url_policy::UrlRefused::Inward(
                                next.host_str().unwrap_or_default().to_string()
                            )
                        )));
                    }
                    visited.push(std::mem::replace(&mut current, next));
                    if let Some(first) = visited.iter().position(|seen| *seen == current) {
                        return Err(redirect_loop(&visited[first..], &current));
                    }
                }
                _ => return Connection::check(response),
            }
        }
        Err(OpenError::NotAStream(format!(
            "the server redirected more than {MAX_REDIRECTS} times (the last to {}); check the URL",
            shown_url(&current)
        )))
    }

    fn check(response: reqwest::Response) -> Result<Connection, OpenError> {
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Err(OpenError::ServerAskedToStop);
        }
        if status != StatusCode::OK {
            let reason = match status.canonical_reason() {
                Some(phrase) => format!("HTTP {} {phrase}", status.as_u16()),
                None => format!("HTTP {}", status.as_u16()),
            };
            return Err(if status.is_server_error() {
                OpenError::ServerError(reason)
            } else if status.is_client_error() {
                OpenError::Refused {
                    status: status.as_u16(),
                    reason,
                }
            } else {
                OpenError::NotAStream(reason)
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .unwrap_or_default();
        if !is_event_stream(&content_type) {
            let shown = if content_type.is_empty() {
                "no content type".to_string()
            } else {
                content_type.chars().take(80).collect()
            };
            return Err(OpenError::NotAStream(format!(
                "not an event stream: {shown}"
            )));
        }
        Ok(Connection { response })
    }

    /// Wait for the next read and parse it, adding its size to `received`.
    /// `Ok(false)` when the server ended the stream. Cancel-safe: a read is
    /// either whole or not taken.
    pub async fn read(
        &mut self,
        parser: &mut Parser,
        items: &mut Vec<Item>,
        received: &AtomicU64,
    ) -> Result<bool, OpenError> {
        match self.response.chunk().await {
            Ok(Some(bytes)) => {
                received.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                parser.feed(&bytes, &mut |item| items.push(item));
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(error) => {
                // Without the URL: it may carry a `?token=` and this text is
                // logged and shown.
                let error = error.without_url();
                let OpenError::Network {
                    reason,
                    detail,
                    certificate,
                } = network_failure(&error)
                else {
                    unreachable!("network_failure gives a network error");
                };
                let reason = if reason.starts_with("Connection lost") {
                    reason
                } else {
                    format!("Connection lost: {}", lowercase_first(&reason))
                };
                Err(OpenError::Network {
                    reason,
                    detail,
                    certificate,
                })
            }
        }
    }
}

/// A URL as a state shows it: without secrets, and cut short.
fn shown_url(url: &url::Url) -> String {
    crate::protocol::url_policy::redacted(url)
        .chars()
        .take(120)
        .collect()
}

/// The words for a redirect that came back to where it had been.
fn redirect_loop(cycle: &[url::Url], back_to: &url::Url) -> OpenError {
    let mut path: Vec<String> = cycle.iter().map(shown_url).collect();
    path.push(shown_url(back_to));
    let path = path.join(" → ");
    OpenError::NotAStream(format!(
        "the server redirects in a loop ({}); check the URL, or the server's redirect rules",
        path.chars().take(400).collect::<String>()
    ))
}

/// `text/event-stream`, with any parameters, in any case.
fn is_event_stream(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}

/// A failure to reach the server, in a user's words ("Server unreachable:
/// it refused the connection", "Certificate not trusted: …"), with the
/// whole error chain beside it for the log and the Status view.
pub fn network_failure(error: &(dyn std::error::Error + 'static)) -> OpenError {
    let detail = describe_error(error);
    let reason = network_reason(error, &detail);
    let certificate =
        super::trust::refusal_in(error).map(|refused| refused.fingerprint().to_string());
    OpenError::Network {
        reason,
        detail,
        certificate,
    }
}

fn network_reason(error: &(dyn std::error::Error + 'static), detail: &str) -> String {
    if let Some(refused) = super::trust::refusal_in(error) {
        return refused.in_words();
    }
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            // EHOSTUNREACH, ENETUNREACH and ENETDOWN on Linux.
            let no_route = matches!(io.raw_os_error(), Some(113 | 101 | 100))
                || matches!(
                    io.kind(),
                    ErrorKind::HostUnreachable
                        | ErrorKind::NetworkUnreachable
                        | ErrorKind::NetworkDown
                );
            if no_route {
                return OFFLINE.into();
            }
            match io.kind() {
                ErrorKind::ConnectionRefused => {
                    return "Server unreachable: it refused the connection".into()
                }
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe => {
                    return "Connection lost: the server or the network dropped it".into()
                }
                ErrorKind::TimedOut => return "Server unreachable: no answer".into(),
                _ => {}
            }
        }
        source = cause.source();
    }
    if let Some(at) = detail.find("invalid peer certificate: ") {
        let problem = detail[at + "invalid peer certificate: ".len()..]
            .split(':')
            .next()
            .unwrap_or("")
            .trim();
        return format!("Certificate not trusted: {}", certificate_problem(problem));
    }
    // hyper's words for a response head over its limit (about 400 kB, or
    // more than 100 headers), and for an answer that is not HTTP at all.
    if detail.contains("message head is too large") {
        return "Not an event stream: the server's response head (status line and headers) is over the size limit".into();
    }
    if detail.contains("invalid HTTP") {
        return "Not an event stream: the server's answer is not valid HTTP".into();
    }
    if detail.contains("dns error") || detail.contains("failed to lookup address") {
        return "Server not found: its name does not resolve".into();
    }
    if detail.contains("timed out") || detail.contains("deadline has elapsed") {
        return "Server unreachable: no answer".into();
    }
    if detail.contains("error sending request") || detail.contains("client error (Connect)") {
        return "Server unreachable".into();
    }
    "Network error".into()
}

/// rustls's words for a certificate it refuses, in a user's.
fn certificate_problem(problem: &str) -> String {
    let words = match problem {
        "UnknownIssuer" => "it is signed by an authority this computer does not know",
        "CaUsedAsEndEntity" | "Other(OtherError(CaUsedAsEndEntity))" => {
            "the server uses a CA certificate as its own (self-signed with CA:TRUE)"
        }
        "NotValidForName" => "it is not made out for this server's name",
        "Expired" => "it has expired",
        "NotValidYet" => "it is not valid yet",
        "Revoked" => "it was revoked",
        "BadSignature" => "its signature is wrong",
        other if other.contains("CaUsedAsEndEntity") => {
            "the server uses a CA certificate as its own (self-signed with CA:TRUE)"
        }
        other if other.contains("NotValidForName") => "it is not made out for this server's name",
        other => return other.chars().take(120).collect(),
    };
    words.to_string()
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An error and its causes in one line: reqwest's own message alone ("error
/// sending request") does not tell a user whether DNS, TLS or the route failed.
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_essence_is_compared_without_case_or_parameters() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(!is_event_stream("text/html"));
        assert!(!is_event_stream(""));
        assert!(!is_event_stream("text/event-streamx"));
    }

    #[test]
    fn last_event_id_header_only_once_known() {
        let headers = request_headers(&HeaderMap::new(), "");
        assert!(headers.get("last-event-id").is_none());
        assert_eq!(headers[ACCEPT], "text/event-stream");
        assert_eq!(headers[CACHE_CONTROL], "no-cache");
        let headers = request_headers(&HeaderMap::new(), "41");
        assert_eq!(headers["last-event-id"], "41");
        // An id too long to send back is not sent at all.
        let long = "7".repeat(MAX_RESUME_POINT_BYTES + 1);
        assert!(request_headers(&HeaderMap::new(), &long)
            .get("last-event-id")
            .is_none());
        assert_eq!(resume_point(&long), "");
        let longest = "7".repeat(MAX_RESUME_POINT_BYTES);
        assert_eq!(resume_point(&longest), longest);
    }

    #[test]
    fn redirects_stay_on_http_and_never_go_down_from_https() {
        let https = url::Url::parse("https://example.com/stream").unwrap();
        let http = url::Url::parse("http://example.com/stream").unwrap();
        assert_eq!(
            redirect_target(&https, "/other").unwrap().as_str(),
            "https://example.com/other"
        );
        assert_eq!(
            redirect_target(&http, "https://secure.example/s")
                .unwrap()
                .as_str(),
            "https://secure.example/s"
        );
        assert!(redirect_target(&https, "http://example.com/stream")
            .unwrap_err()
            .reason()
            .contains("from https down to plain http"));
        assert!(redirect_target(&http, "file:///etc/passwd").is_err());
        assert!(redirect_target(&http, "javascript:alert(1)").is_err());
    }

    #[test]
    fn network_failures_in_a_users_words() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "error sending request for url (http://x/stream)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let reason = |error: std::io::Error| network_failure(&Wrapper(error)).reason();
        assert_eq!(
            reason(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            "Server unreachable: it refused the connection"
        );
        assert_eq!(
            reason(std::io::Error::from_raw_os_error(113)),
            "Offline: no route to the server"
        );
        let failure = network_failure(&Wrapper(std::io::Error::other(
            "invalid peer certificate: UnknownIssuer",
        )));
        assert_eq!(
            failure.reason(),
            "Certificate not trusted: it is signed by an authority this computer does not know"
        );
        assert!(failure.detail().unwrap().contains("error sending request"));
    }

    #[test]
    fn which_refusals_may_blame_the_resume_point() {
        let refused = |status| OpenError::Refused {
            status,
            reason: String::new(),
        };
        for status in [400, 413, 422, 431] {
            assert!(refused(status).may_blame_the_resume_point(), "{status}");
        }
        for status in [401, 403, 404, 429] {
            assert!(!refused(status).may_blame_the_resume_point(), "{status}");
        }
        assert!(!OpenError::ServerError("HTTP 500".into()).may_blame_the_resume_point());
    }
}
