//! Certificates made with openssl in the shapes people make them, and a
//! real TLS event stream to present them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{python, wait_for_port, Proc};

pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .expect("openssl");
    assert!(output.status.success(), "openssl {args:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `openssl req -x509` as most guides give it: self-signed and, by
/// openssl's defaults, marked CA:TRUE. Its (certificate, key).
pub fn self_signed_ca(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
    );
    (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

/// A self-signed certificate marked CA:FALSE, a leaf.
pub fn self_signed_leaf(dir: &Path) -> (PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf-only.key",
            "-out",
            "leaf-only.pem",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    (dir.join("leaf-only.pem"), dir.join("leaf-only.key"))
}

/// A CA and a leaf it signed: (CA certificate, leaf certificate, leaf key).
pub fn ca_and_leaf(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ssetray test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

/// The SHA-256 fingerprint as openssl prints it (`AB:CD:...`).
pub fn fingerprint(dir: &Path, certificate: &Path) -> String {
    let printed = openssl(
        dir,
        &[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            certificate.to_str().expect("path"),
        ],
    );
    printed
        .trim()
        .split_once('=')
        .map(|(_, fingerprint)| fingerprint.to_string())
        .expect("a fingerprint")
}

const TLS_STREAM: &str = r#"
import http.server, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Stream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b"id: 1\ndata: over tls\n\n")
        self.wfile.flush()
        self.rfile.read(1)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Stream)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

pub fn tls_server(port: u16, certificate: &Path, key: &Path) -> Proc {
    let server = Proc::spawn(
        "tls stream",
        Command::new(python())
            .arg("-c")
            .arg(TLS_STREAM)
            .arg(port.to_string())
            .arg(certificate)
            .arg(key)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_port(port);
    server
}
