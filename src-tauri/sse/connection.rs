//! One HTTP response read as an event stream.
//!
//! Opening checks what the standard asks of a response before anything is
//! parsed (status 200 and `text/event-stream`; 204 means stop for good) and
//! turns every other answer into a [`OpenError`] that says in words what was
//! found, for the connection state a user reads. Reading then pulls network
//! reads through the [`Parser`]. Reconnecting is the client's business, not
//! this file's: a `Connection` lives exactly as long as one response.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::StatusCode;

use super::parser::{Item, Parser};

/// Why a response was not an event stream, or why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// 204 No Content: the server asks the client to stop reconnecting.
    ServerAskedToStop,
    /// 5xx: the server is in trouble; retry on the normal schedule.
    ServerError(String),
    /// Any other status, or the wrong content type: a maintenance page, a
    /// wrong URL. Retried slowly, since such pages do go away.
    NotAStream(String),
    /// No response at all: DNS, refused, TLS, timeout.
    Network(String),
}

impl OpenError {
    pub fn reason(&self) -> String {
        match self {
            OpenError::ServerAskedToStop => "the server asked to stop (HTTP 204)".to_string(),
            OpenError::ServerError(reason)
            | OpenError::NotAStream(reason)
            | OpenError::Network(reason) => reason.clone(),
        }
    }
}

/// An open event stream.
pub struct Connection {
    response: reqwest::Response,
}

/// The request headers the standard asks for, plus the user's own.
pub fn request_headers(extra: &HeaderMap, last_event_id: &str) -> HeaderMap {
    let mut headers = extra.clone();
    headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
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

impl Connection {
    /// Send the request and check the response.
    ///
    /// The wait for the response head has no timeout of its own: Flask-SSE
    /// sends not even its headers before the first event, which on a quiet
    /// channel may be hours away. TCP keepalive and the client's clock-jump
    /// check cover a peer that died meanwhile.
    pub async fn open(
        http: &reqwest::Client,
        url: &url::Url,
        headers: HeaderMap,
    ) -> Result<Connection, OpenError> {
        let response = http
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|error| OpenError::Network(describe_error(&error)))?;
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
    ) -> Result<bool, String> {
        match self.response.chunk().await {
            Ok(Some(bytes)) => {
                received.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                parser.feed(&bytes, &mut |item| items.push(item));
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(error) => Err(format!("connection lost: {}", describe_error(&error))),
        }
    }
}

/// `text/event-stream`, with any parameters, in any case.
fn is_event_stream(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/event-stream")
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
    }
}
