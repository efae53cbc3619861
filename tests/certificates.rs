//! Self-hosted servers: the three shapes of certificate people make, made
//! here with openssl, against a real TLS server; trust on first use (a pin)
//! and a certificate changed after pinning.

mod common;

use common::tls::*;
use common::*;

fn listen(home: &AppHome, port: u16, extra: &[&str]) -> Running {
    let url = format!("https://127.0.0.1:{port}/stream");
    let mut args = vec!["listen", url.as_str(), "--json", "--max-events", "1"];
    args.extend_from_slice(extra);
    home.spawn(&args)
}

#[test]
fn a_self_signed_ca_certificate_is_refused_in_words_with_its_fingerprint_then_pinned() {
    let dir = tempfile::tempdir().expect("dir");
    let (certificate, key) = self_signed_ca(dir.path(), "server");
    let shown = fingerprint(dir.path(), &certificate);
    let port = free_port();
    let _server = tls_server(port, &certificate, &key);
    let home = AppHome::new();
    // Another self-signed CA certificate as the CA file: the server's is
    // refused in words, with its fingerprint (rustls refuses a CA
    // certificate as the server's own whoever signed it).
    let (other, _) = self_signed_ca(dir.path(), "other");
    let refused = listen(&home, port, &["--ca-file", other.to_str().expect("path")]);
    refused.wait_stderr("Certificate not trusted: it is a CA certificate used as the server's own");
    refused.wait_stderr(&format!("Its SHA-256 fingerprint is {shown}"));
    drop(refused);
    // The very certificate given as the CA file is trusted as given, as
    // curl, Python and Go trust it.
    let mut given = listen(
        &home,
        port,
        &["--ca-file", certificate.to_str().expect("path")],
    );
    assert_eq!(given.next_event()["data"], "over tls");
    assert_eq!(given.wait_exit(), 0);
    // Pinned, it is accepted whatever its CA flags.
    let mut pinned = listen(&home, port, &["--pin", &shown]);
    assert_eq!(pinned.next_event()["data"], "over tls");
    assert_eq!(pinned.wait_exit(), 0);

    // The app: the state offers that fingerprint, and trusting it connects.
    home.set("server_url", &format!("https://127.0.0.1:{port}/stream"));
    let _app = home.spawn(&["run", "--headless"]);
    let offered = || -> Option<String> {
        let (_, out, _) = home.run(&["status", "--json"]);
        let status: serde_json::Value = serde_json::from_str(&out).ok()?;
        status["state"]["certificate"].as_str().map(str::to_string)
    };
    wait_until("the certificate offered", || offered().is_some());
    assert_eq!(offered().as_deref(), Some(shown.as_str()));
    let (_, text, _) = home.run(&["status"]);
    assert!(text.contains("Certificate not trusted"), "{text}");
    home.set("certificate_pin", &shown);
    wait_until("the event stored", || home.history().len() == 1);
    // Another server in the settings is trusted anew: the pin goes.
    home.set("server_url", "https://127.0.0.2:1/stream");
    let (_, pin, _) = home.run(&["config", "get", "certificate_pin"]);
    assert!(!pin.contains(&shown), "{pin}");
}

#[test]
fn a_certificate_changed_after_pinning_is_refused_with_a_warning() {
    let dir = tempfile::tempdir().expect("dir");
    let (first, first_key) = self_signed_ca(dir.path(), "first");
    let (second, second_key) = self_signed_ca(dir.path(), "second");
    let (first_shown, second_shown) = (
        fingerprint(dir.path(), &first),
        fingerprint(dir.path(), &second),
    );
    let port = free_port();
    let home = AppHome::new();
    {
        let _server = tls_server(port, &first, &first_key);
        let mut pinned = listen(&home, port, &["--pin", &first_shown]);
        assert_eq!(pinned.next_event()["data"], "over tls");
        assert_eq!(pinned.wait_exit(), 0);
    }
    // The same name, another certificate: never silently accepted.
    let _server = tls_server(port, &second, &second_key);
    let refused = listen(&home, port, &["--pin", &first_shown]);
    refused.wait_stderr(&format!(
        "Certificate changed: the server shows SHA-256 {second_shown}, not the certificate you trusted ({first_shown})"
    ));
    assert!(refused.drain_stdout().is_empty(), "no event over it");
}

#[test]
fn a_ca_signed_leaf_and_a_self_signed_leaf_work_with_the_ca_file() {
    let dir = tempfile::tempdir().expect("dir");
    let home = AppHome::new();
    let (ca, leaf, leaf_key) = ca_and_leaf(dir.path());
    let (own, own_key) = self_signed_leaf(dir.path());
    for (trusted, certificate, key) in [(&ca, &leaf, &leaf_key), (&own, &own, &own_key)] {
        let port = free_port();
        let _server = tls_server(port, certificate, key);
        let mut client = listen(&home, port, &["--ca-file", trusted.to_str().expect("path")]);
        assert_eq!(client.next_event()["data"], "over tls", "{certificate:?}");
        assert_eq!(client.wait_exit(), 0);
        // Without the CA file: unknown to this computer, said so.
        let refused = listen(&home, port, &[]);
        refused.wait_stderr(
            "Certificate not trusted: it is signed by an authority this computer does not know",
        );
    }
}
