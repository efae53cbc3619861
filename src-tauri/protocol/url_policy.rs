//! The one URL policy: which addresses the app connects to, follows, opens
//! or shows, and how an address is written where others may read it.
//!
//! Every address the app meets comes from the user (settings, the command
//! line) or, worse, from a server (links in events, redirects, image
//! names). The rules, all here so that no caller decides on its own:
//! - only `http` and `https`, with a host: never `javascript:`, `file:` or
//!   a custom scheme;
//! - a redirect never goes from https down to plain http;
//! - the user's headers and the resume point go only to the origin the user
//!   configured;
//! - an image a server names is fetched only from the server's own origin
//!   or from public addresses, never from this computer or its network
//!   (another service on loopback, the LAN, a cloud's metadata address);
//! - a server on the internet may not lead the app (a stream redirect) or
//!   the user (a link) to this computer or its network: what it names at
//!   another origin must not resolve to a loopback, private or link-local
//!   address; a server on the user's own network may, as before;
//! - an address written to a log, a state text or the history has its
//!   secrets (a password, a `?token=`) replaced by `***`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// Why an address is refused, in words that end a sentence "... is refused:".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("it is not a URL ({0})")]
    NotAUrl(String),
    #[error("it uses `{0}:`; only http and https are allowed")]
    Scheme(String),
    #[error("it has no host")]
    NoHost,
    #[error("it goes from https down to plain http ({0})")]
    Downgrade(String),
    #[error("it leads from a server on the internet to this computer or its network ({0})")]
    Inward(String),
}

/// An address the app may connect to or open: http(s) with a host.
pub fn http_url(text: &str) -> Result<Url, UrlRefused> {
    let url = Url::parse(text.trim()).map_err(|error| UrlRefused::NotAUrl(error.to_string()))?;
    check(&url)?;
    Ok(url)
}

fn check(url: &Url) -> Result<(), UrlRefused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(url.scheme().to_string()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefused::NoHost);
    }
    Ok(())
}

/// A link from a server that may be opened in the browser, normalised; `None`
/// for anything else. A link with user info (`https://bank.example@evil.example/`)
/// is refused: it reads as one host and leads to another.
pub fn safe_link(text: &str) -> Option<String> {
    safe_link_url(text).map(String::from)
}

/// [`safe_link`], parsed.
pub fn safe_link_url(text: &str) -> Option<Url> {
    let url = http_url(text).ok()?;
    (url.username().is_empty() && url.password().is_none()).then_some(url)
}

/// Where a redirect from `from` to `location` leads, if it may be followed.
pub fn redirect_target(from: &Url, location: &str) -> Result<Url, UrlRefused> {
    let target = from
        .join(location)
        .map_err(|error| UrlRefused::NotAUrl(error.to_string()))?;
    check(&target)?;
    if from.scheme() == "https" && target.scheme() == "http" {
        return Err(UrlRefused::Downgrade(
            target.host_str().unwrap_or_default().to_string(),
        ));
    }
    Ok(target)
}

/// Whether the user's own headers and the resume point may go to `to`,
/// on the way to the stream the user configured at `configured`.
pub fn may_carry_secrets(configured: &Url, to: &Url) -> bool {
    configured.origin() == to.origin()
}

/// The web app behind a stream: its origin, where a notification without a
/// link of its own leads.
pub fn web_app_of(stream: &Url) -> String {
    stream.origin().ascii_serialization() + "/"
}

/// Whether an image named by the server at `server` may be fetched from
/// `target`, which resolves to `addresses`: from the server's own origin
/// always (the user chose to talk to it, wherever it is), from anywhere
/// else only when every address it resolves to is public. Asked again for
/// each redirect, with the addresses the request will really use.
pub fn may_fetch_image(server: &Url, target: &Url, addresses: &[IpAddr]) -> bool {
    if check(target).is_err() || !target.username().is_empty() || target.password().is_some() {
        return false;
    }
    if server.origin() == target.origin() {
        return true;
    }
    !addresses.is_empty() && addresses.iter().all(|address| is_public(*address))
}

/// How long a look-up for [`points_inward`] may take. A name that does not
/// resolve by then leads nowhere the app could be made to reach.
const LOOKUP_WAIT: Duration = Duration::from_secs(3);

/// The addresses `url`'s host stands for: an address as written, a
/// `localhost` name as loopback (as browsers take it), else what the
/// system's resolver says.
pub async fn addresses_of(url: &Url) -> std::io::Result<Vec<SocketAddr>> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Some(Host::Domain(name))
            if name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost") =>
        {
            Ok(vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)])
        }
        Some(Host::Domain(name)) => Ok(tokio::net::lookup_host((name, port)).await?.collect()),
        None => Ok(Vec::new()),
    }
}

/// Whether `target`, named by the server at `server` (a redirect of its
/// stream, a link in an event), leads from the internet inward: the server
/// is at public addresses only, and `target`, at another origin, resolves
/// to an address that is not public. A server on this computer or its
/// network (not public itself) may name anything, as before; the server's
/// own origin is always its own.
pub async fn points_inward(server: &Url, target: &Url) -> bool {
    if server.origin() == target.origin() {
        return false;
    }
    let looked_up = |url: &Url| {
        let url = url.clone();
        async move {
            match tokio::time::timeout(LOOKUP_WAIT, addresses_of(&url)).await {
                Ok(Ok(addresses)) => addresses.into_iter().map(|at| at.ip()).collect(),
                _ => Vec::new(),
            }
        }
    };
    // The target first: most links name public hosts, which settles it.
    let target_addresses: Vec<IpAddr> = looked_up(target).await;
    if target_addresses.iter().all(|address| is_public(*address)) {
        return false;
    }
    let server_addresses: Vec<IpAddr> = looked_up(server).await;
    leads_inward(&server_addresses, &target_addresses)
}

/// [`points_inward`] for the addresses found.
pub fn leads_inward(server: &[IpAddr], target: &[IpAddr]) -> bool {
    !server.is_empty()
        && server.iter().all(|address| is_public(*address))
        && target.iter().any(|address| !is_public(*address))
}

/// An address on the public internet: not this computer, not a private or
/// shared network, not link-local (where cloud metadata services answer),
/// not multicast, documentation or reserved.
pub fn is_public(address: IpAddr) -> bool {
    if counted_public_for_tests(address) {
        return true;
    }
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// Debug builds only: loopback addresses listed in
/// `SSETRAY_TEST_PUBLIC_ADDRESSES` count as public, so that a test can play
/// a server on the internet without an address outside this computer.
/// Release builds have no such switch.
#[cfg(debug_assertions)]
fn counted_public_for_tests(address: IpAddr) -> bool {
    static LISTED: std::sync::OnceLock<Vec<IpAddr>> = std::sync::OnceLock::new();
    LISTED
        .get_or_init(|| {
            std::env::var("SSETRAY_TEST_PUBLIC_ADDRESSES")
                .unwrap_or_default()
                .split(',')
                .filter_map(|text| text.trim().parse::<IpAddr>().ok())
                .filter(IpAddr::is_loopback)
                .collect()
        })
        .contains(&address)
}

#[cfg(not(debug_assertions))]
fn counted_public_for_tests(_address: IpAddr) -> bool {
    false
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64: an IPv4 inside
        || ip.to_ipv4().is_some()) // IPv4-compatible
}

/// Query parameters whose values are secrets, by the words their names
/// contain (`token`, `access_token`, `api_key`, `sig`, ...).
const SECRET_WORDS: &[&str] = &[
    "token", "key", "auth", "secret", "pass", "pwd", "sig", "session", "jwt", "code", "cred",
    "ticket",
];

fn names_a_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// The address as it may be written in a log, a state text or the history:
/// a password and the values of secret-looking query parameters become
/// `***`; everything else (the host, the path, `?channel=`) stays, so that
/// two streams remain told apart.
pub fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if names_a_secret(&name) {
                    "***".to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        if pairs.is_empty() {
            shown.set_query(None);
        } else {
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    shown.set_fragment(None);
    shown.to_string()
}

/// [`redacted`] for text that may or may not be a URL (an old stored row,
/// a setting): not a URL is returned as it is.
pub fn redacted_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => redacted(&url),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_the_internet_nothing_leads_inward_from_home_anything_does() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let public = [ip("93.184.215.14")];
        for inward in [
            "127.0.0.1",
            "::1",
            "192.168.1.1",
            "10.0.0.5",
            "172.16.3.4",
            "169.254.169.254",
            "fe80::1",
            "fd00::1",
            "::ffff:192.168.1.1",
        ] {
            assert!(leads_inward(&public, &[ip(inward)]), "{inward}");
            // A server at home may name its neighbours, as before.
            assert!(
                !leads_inward(&[ip("192.168.1.10")], &[ip(inward)]),
                "{inward}"
            );
        }
        assert!(!leads_inward(&public, &[ip("151.101.1.69")]));
        // One inward address among public ones is enough to refuse.
        assert!(leads_inward(
            &public,
            &[ip("151.101.1.69"), ip("127.0.0.1")]
        ));
        // A server that did not resolve is not known to be public.
        assert!(!leads_inward(&[], &[ip("127.0.0.1")]));
    }

    #[tokio::test]
    async fn localhost_names_and_written_addresses_need_no_lookup() {
        let url = |text: &str| Url::parse(text).unwrap();
        for (link, expected) in [
            ("http://localhost:6379/", "127.0.0.1"),
            ("http://admin.localhost/", "127.0.0.1"),
            ("http://[::1]:8080/", "::1"),
            ("http://10.1.2.3/", "10.1.2.3"),
        ] {
            let found = addresses_of(&url(link)).await.unwrap();
            assert_eq!(found.len(), 1, "{link}");
            assert_eq!(found[0].ip(), expected.parse::<IpAddr>().unwrap(), "{link}");
        }
        // The same origin is the server's own, wherever it is.
        assert!(
            !points_inward(
                &url("http://127.0.0.1:5000/stream"),
                &url("http://127.0.0.1:5000/x")
            )
            .await
        );
        // A server at home names a service at home: as before.
        assert!(
            !points_inward(
                &url("http://127.0.0.1:5000/stream"),
                &url("http://127.0.0.1:6379/")
            )
            .await
        );
    }

    #[test]
    fn only_http_and_https_with_a_host() {
        assert!(http_url("https://example.com/stream").is_ok());
        assert!(http_url(" http://127.0.0.1:5000/stream ").is_ok());
        assert_eq!(
            http_url("javascript:alert(1)"),
            Err(UrlRefused::Scheme("javascript".into()))
        );
        assert!(matches!(
            http_url("file:///etc/passwd"),
            Err(UrlRefused::Scheme(_))
        ));
        assert!(matches!(http_url("not a url"), Err(UrlRefused::NotAUrl(_))));
        assert_eq!(safe_link("ftp://example.com/x"), None);
        assert_eq!(safe_link("https://bank.example@evil.example/"), None);
        assert_eq!(safe_link("https://user:pass@example.com/"), None);
        assert_eq!(
            safe_link("https://example.com/x").as_deref(),
            Some("https://example.com/x")
        );
    }

    #[test]
    fn images_come_from_the_servers_origin_or_public_addresses_only() {
        let server = Url::parse("http://127.0.0.1:5000/stream").unwrap();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let url = |text: &str| Url::parse(text).unwrap();
        let loopback = [ip("127.0.0.1")];
        assert!(may_fetch_image(
            &server,
            &url("http://127.0.0.1:5000/a.png"),
            &loopback
        ));
        assert!(!may_fetch_image(
            &server,
            &url("http://127.0.0.1:5001/a.png"),
            &loopback
        ));
        assert!(!may_fetch_image(
            &server,
            &url("http://localhost:5000/a.png"),
            &loopback
        ));
        assert!(!may_fetch_image(&server, &url("file:///etc/passwd"), &[]));
        let public = url("https://cdn.example/a.png");
        assert!(may_fetch_image(&server, &public, &[ip("93.184.216.34")]));
        assert!(may_fetch_image(
            &server,
            &public,
            &[ip("2606:2800:220:1::1")]
        ));
        assert!(!may_fetch_image(&server, &public, &[]));
        // One private address among public ones is enough to refuse.
        assert!(!may_fetch_image(
            &server,
            &public,
            &[ip("93.184.216.34"), ip("10.0.0.1")]
        ));
        for private in [
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(private)), "{private}");
        }
    }

    #[test]
    fn redirects_never_leave_https_for_http() {
        let https = Url::parse("https://example.com/stream").unwrap();
        let http = Url::parse("http://example.com/stream").unwrap();
        assert_eq!(
            redirect_target(&https, "/other").unwrap().as_str(),
            "https://example.com/other"
        );
        assert!(redirect_target(&http, "https://secure.example/s").is_ok());
        assert!(matches!(
            redirect_target(&https, "http://example.com/stream"),
            Err(UrlRefused::Downgrade(_))
        ));
        assert!(redirect_target(&http, "javascript:alert(1)").is_err());
    }

    #[test]
    fn secrets_go_only_to_the_configured_origin() {
        let configured = Url::parse("https://example.com/stream").unwrap();
        let same = Url::parse("https://example.com/other?x=1").unwrap();
        let other = Url::parse("https://evil.example/stream").unwrap();
        let port = Url::parse("https://example.com:8443/stream").unwrap();
        assert!(may_carry_secrets(&configured, &same));
        assert!(!may_carry_secrets(&configured, &other));
        assert!(!may_carry_secrets(&configured, &port));
    }

    #[test]
    fn tokens_and_passwords_are_hidden_channels_kept() {
        let url =
            Url::parse("https://me:hunter2@example.com/stream?channel=news&token=abc&api_key=k#x")
                .unwrap();
        let shown = redacted(&url);
        assert_eq!(
            shown,
            "https://me:***@example.com/stream?channel=news&token=***&api_key=***"
        );
        assert!(!shown.contains("hunter2") && !shown.contains("abc"));
        assert_eq!(
            redacted_text("http://127.0.0.1:5000/stream"),
            "http://127.0.0.1:5000/stream"
        );
        assert_eq!(redacted_text("not a url"), "not a url");
    }
}
