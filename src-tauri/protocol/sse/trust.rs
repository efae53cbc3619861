//! Which server certificates are trusted.
//!
//! By default, what the system trusts (its CA store, through
//! rustls-platform-verifier), with an optional extra CA file. For a
//! self-hosted server whose certificate no CA vouches for (the common
//! `openssl req -x509`, which even marks it a CA), the user may trust it on
//! first use, as SSH does: its SHA-256 fingerprint is pinned, and from then
//! on that one certificate is accepted for that server whatever its CA
//! flags, and any other certificate is refused with a warning, never
//! silently. The handshake's signature is still checked, so only the holder
//! of the pinned certificate's key gets through.
//!
//! A certificate in the extra CA file that the server shows as its own is
//! trusted as given, as a pinned one is, whatever its CA flag.
//!
//! A refusal carries the certificate's fingerprint to the state text, so
//! that the user can compare it with the server's before trusting it.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

/// A certificate's SHA-256 fingerprint, written `AB:CD:…` as browsers do.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(certificate: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(certificate).into())
    }

    /// From 64 hex digits, with or without colons or spaces, any case; an
    /// optional `sha256:` in front.
    pub fn parse(text: &str) -> Option<Fingerprint> {
        let text = text.trim();
        let text = text
            .strip_prefix("sha256:")
            .or_else(|| text.strip_prefix("SHA256:"))
            .or_else(|| text.strip_prefix("SHA-256:"))
            .unwrap_or(text);
        let digits: Vec<u8> = text
            .bytes()
            .filter(|byte| !matches!(byte, b':' | b' '))
            .collect();
        if digits.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, pair) in digits.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            bytes[index] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Fingerprint(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, byte) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHA-256 {self}")
    }
}

/// Why a server's certificate was refused, with its fingerprint.
#[derive(Debug)]
pub enum CertificateRefused {
    /// No CA the system (or the extra CA file) trusts vouches for it.
    Untrusted {
        fingerprint: Fingerprint,
        problem: String,
    },
    /// Not the certificate the user trusted for this server.
    Changed {
        fingerprint: Fingerprint,
        pinned: Fingerprint,
    },
}

impl fmt::Display for CertificateRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateRefused::Untrusted {
                fingerprint,
                problem,
            } => write!(f, "{problem} (SHA-256 {fingerprint})"),
            CertificateRefused::Changed {
                fingerprint,
                pinned,
            } => write!(
                f,
                "the server's certificate changed: SHA-256 {fingerprint}, not the {pinned} you trusted"
            ),
        }
    }
}

impl std::error::Error for CertificateRefused {}

impl CertificateRefused {
    /// The fingerprint of the certificate the server showed.
    pub fn fingerprint(&self) -> Fingerprint {
        match self {
            CertificateRefused::Untrusted { fingerprint, .. }
            | CertificateRefused::Changed { fingerprint, .. } => *fingerprint,
        }
    }

    /// For the state: why, in a user's words, and what to do.
    pub fn in_words(&self) -> String {
        match self {
            CertificateRefused::Untrusted {
                fingerprint,
                problem,
            } => format!(
                "Certificate not trusted: {problem}. Its SHA-256 fingerprint is {fingerprint}; if it is your server's, trust it in Settings, or with `ssetray config set certificate_pin {fingerprint}`"
            ),
            CertificateRefused::Changed {
                fingerprint,
                pinned,
            } => format!(
                "Certificate changed: the server shows SHA-256 {fingerprint}, not the certificate you trusted ({pinned}). Someone may be in the way; if the server really has a new certificate, trust it again"
            ),
        }
    }
}

/// The refusal in an error's chain, if a certificate was refused.
pub fn refusal_in<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CertificateRefused> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<CertificateRefused>() {
            return Some(refused);
        }
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner)))) =
            cause.downcast_ref::<rustls::Error>()
        {
            if let Some(refused) = inner.downcast_ref::<CertificateRefused>() {
                return Some(refused);
            }
        }
        // An `io::Error`'s `source()` skips the error it wraps: look inside.
        if let Some(inner) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &(dyn std::error::Error + 'static) = inner;
            if let Some(refused) = refusal_in(inner) {
                return Some(refused);
            }
        }
        source = cause.source();
    }
    None
}

/// The system's trust, or one pinned certificate.
#[derive(Debug)]
struct Verifier {
    system: rustls_platform_verifier::Verifier,
    pin: Option<Fingerprint>,
    /// The certificates of the extra CA file: one the server shows as its
    /// own is accepted as a pinned one is (what curl, Python and Go do with
    /// a self-signed certificate given as the CA).
    given: Vec<Fingerprint>,
}

fn refuse(refused: CertificateRefused) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(refused))))
}

/// A rustls certificate error in words.
fn problem_of(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(problem) => match problem {
            CertificateError::UnknownIssuer => {
                "it is signed by an authority this computer does not know".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "it is not made out for this server's name".into()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "it has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "it is not valid yet".into()
            }
            CertificateError::Revoked => "it was revoked".into(),
            CertificateError::BadSignature => "its signature is wrong".into(),
            other => {
                let text = format!("{other:?}");
                if text.contains("CaUsedAsEndEntity") {
                    "it is a CA certificate used as the server's own (a self-signed certificate made with `openssl req -x509`)".into()
                } else {
                    format!("it was refused ({text})")
                }
            }
        },
        other => other.to_string(),
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fingerprint = Fingerprint::of(end_entity);
        if let Some(pinned) = self.pin {
            return if fingerprint == pinned {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(refuse(CertificateRefused::Changed {
                    fingerprint,
                    pinned,
                }))
            };
        }
        if self.given.contains(&fingerprint) {
            return Ok(ServerCertVerified::assertion());
        }
        self.system
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|error| {
                refuse(CertificateRefused::Untrusted {
                    fingerprint,
                    problem: problem_of(&error),
                })
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.system
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.system
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.system.supported_verify_schemes()
    }
}

/// Why the TLS set-up could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{0}")]
    CaFile(String),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// The certificates of a PEM file, for the extra CA file.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let pem = read_bounded_file(path).map_err(|error| TrustError::CaFile(error.to_string()))?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|error| TrustError::CaFile(format!("it is not a PEM file ({error:?})")))?;
    if certificates.is_empty() {
        return Err(TrustError::CaFile("it holds no PEM certificate".into()));
    }
    Ok(certificates)
}

/// The largest CA file read: a system's whole CA bundle is about 200 kB.
const MAX_CA_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A CA file the user named (anywhere, perhaps the system's bundle, so not
/// necessarily the user's own): a regular file, read up to a cap, so that a
/// pipe or a device named by mistake is an error rather than a hang.
fn read_bounded_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file; name a PEM file", path.display()),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is larger than {} MiB, which no CA file is",
                path.display(),
                MAX_CA_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

/// The TLS set-up for a client: the system's CAs plus `extra_roots`, or the
/// one certificate `pin` names.
pub fn tls_config(
    extra_roots: Vec<CertificateDer<'static>>,
    pin: Option<Fingerprint>,
) -> Result<rustls::ClientConfig, TrustError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    // Without extra roots, the system's own verifier: on Windows the one
    // with extra roots builds a chain engine of its own, which older
    // systems (and Wine) refuse.
    // A certificate the user gave is trusted as given when the server
    // shows exactly it: the self-signed `openssl req -x509` certificate is
    // marked a CA, which the system's verifier refuses as a server's own.
    let given = extra_roots
        .iter()
        .map(|certificate| Fingerprint::of(certificate))
        .collect();
    let system = if extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
    }
    .map_err(|error| TrustError::Tls(error.to_string()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TrustError::Tls(error.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { system, pin, given }))
        .with_no_client_auth();
    // Event streams are HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_as_written_and_in_other_spellings() {
        let fingerprint = Fingerprint::of(b"a certificate");
        let shown = fingerprint.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&shown), Some(fingerprint));
        assert_eq!(Fingerprint::parse(&shown.to_lowercase()), Some(fingerprint));
        assert_eq!(
            Fingerprint::parse(&shown.replace(':', "")),
            Some(fingerprint)
        );
        assert_eq!(
            Fingerprint::parse(&format!("sha256:{}", shown.replace(':', ""))),
            Some(fingerprint)
        );
        assert_eq!(Fingerprint::parse("AB:CD"), None);
        assert_eq!(Fingerprint::parse(&"zz".repeat(32)), None);
        assert_eq!(Fingerprint::parse(&"é".repeat(32)), None);
    }

    #[test]
    fn a_refusal_is_found_inside_an_error_chain() {
        let refused = refuse(CertificateRefused::Changed {
            fingerprint: Fingerprint([1; 32]),
            pinned: Fingerprint([2; 32]),
        });
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, refused);
        let found = refusal_in(&wrapped).expect("found");
        assert_eq!(found.fingerprint(), Fingerprint([1; 32]));
        assert!(found.in_words().starts_with("Certificate changed:"));
        assert!(refusal_in(&std::io::Error::other("plain")).is_none());
    }
}
