//! The images a server names in its login events, made harmless once.
//!
//! A login step may carry an image: the QR code itself, the picture shown
//! while the phone confirms, the user's avatar. Each is a reference chosen by
//! the server, so it is an invitation to fetch any address (a service on
//! this computer's loopback, the LAN, a cloud's metadata address) and a
//! stream of bytes aimed at an image decoder. So the tray process, and
//! only it, takes each image once, when its event is stored:
//! - fetched only from the server's own origin or from public addresses
//!   (the URL policy decides, for every hop of a redirect, with the
//!   addresses the request then really connects to), bounded in size and
//!   time, without the user's headers;
//! - decoded here in Rust with a cap on its pixels, shrunk if large, and
//!   written anew as a PNG, which is what is stored with the login state.
//!
//! The window only ever shows that PNG; it fetches nothing and hands no
//! server bytes to WebKit's decoders.
//!
//! The work is bounded whatever the server sends ([`LoginImages`]): one
//! image at a time per stream, the newest step's (a step superseded before
//! its image is decoded or stored is dropped), at most
//! [`FETCHES_AT_ONCE`] fetches and [`DECODES_AT_ONCE`] decode across all
//! streams, the decode on a blocking thread and never one per event.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use image::{ImageFormat, ImageReader, Limits};
use tokio::sync::{mpsc, Notify, Semaphore};
use url::{Host, Url};

use crate::protocol::feed::Login;
use crate::protocol::url_policy::{may_fetch_image, redacted};

/// The largest image file taken from a server.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The largest width or height decoded: beyond it the image is refused
/// before any pixel is allocated.
pub const MAX_SIDE: u32 = 4096;
/// The most a decoded picture may take: 4 megapixels with transparency
/// (2048 × 2048), more of them without. A larger one is refused before any
/// pixel is allocated; with [`DECODES_AT_ONCE`] this bounds the memory
/// that image work takes (README, "Memory").
pub const MAX_DECODED_BYTES: u64 = 16 * 1024 * 1024;
/// What is kept: at most this wide and high (a QR code stays sharp).
pub const STORED_SIDE: u32 = 1024;
/// Images fetched at once, across all streams (one per stream).
pub const FETCHES_AT_ONCE: usize = 2;
/// Images decoded at once, across all streams: each takes up to
/// [`MAX_DECODED_BYTES`] and a blocking thread.
pub const DECODES_AT_ONCE: usize = 1;
/// A fetch, redirects included, ends after this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REDIRECTS: usize = 3;

/// Where a login step's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// The bytes came in the event (base64, or a `data:` URL).
    Inline(Vec<u8>),
    /// An address to fetch.
    Remote(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "the image at {0} is refused: only the server's own address or a public one is fetched"
    )]
    Refused(String),
    #[error("the image at {0} could not be fetched: {1}")]
    Fetch(String, String),
    #[error("the image at {0} answered HTTP {1}")]
    Status(String, u16),
    #[error("the image is larger than {MAX_IMAGE_BYTES} bytes")]
    TooLarge,
    #[error("the fetch took longer than {} s", FETCH_TIMEOUT.as_secs())]
    Timeout,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("not an image this app shows (PNG, JPEG, GIF or WebP): {0}")]
    NotAnImage(String),
}

/// The image a login step names, if any.
pub fn source_of(login: &Login) -> Option<ImageSource> {
    match login {
        Login::ScanQrCode { qr_png_base64, .. } => base64::engine::general_purpose::STANDARD
            .decode(qr_png_base64.trim())
            .ok()
            .map(ImageSource::Inline),
        Login::ConfirmLogin { image, .. } => reference(image),
        Login::LoggedIn { user, .. } => user.avatar.as_deref().and_then(reference),
        Login::LoggedOut { .. } => None,
    }
}

/// A `data:` URL's bytes, or an address to fetch.
fn reference(text: &str) -> Option<ImageSource> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("data:") {
        let (_, payload) = rest.split_once(";base64,")?;
        return base64::engine::general_purpose::STANDARD
            .decode(payload.trim())
            .ok()
            .map(ImageSource::Inline);
    }
    (!text.is_empty()).then(|| ImageSource::Remote(text.to_string()))
}

/// The image as a PNG to store, from a step of the stream at `server`:
/// fetched and decoded at once, without the bounds of [`LoginImages`].
pub async fn stored_png(server: &Url, source: ImageSource) -> Result<Vec<u8>, ImageError> {
    let bytes = match source {
        ImageSource::Inline(bytes) => bytes,
        ImageSource::Remote(address) => fetch_in_time(server, &address).await?,
    };
    // Decoding is work for a moment: off the tray process's one thread.
    tokio::task::spawn_blocking(move || reencode(&bytes))
        .await
        .map_err(|error| ImageError::NotAnImage(error.to_string()))?
}

async fn fetch_in_time(server: &Url, address: &str) -> Result<Vec<u8>, ImageError> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch(server, address))
        .await
        .map_err(|_| ImageError::Timeout)?
}

/// A login step's image, made: the PNG to store with the step it belongs
/// to.
#[derive(Debug)]
pub struct MadeImage {
    /// The stream, by its server key.
    pub server: Arc<str>,
    /// The step, by when it was stored.
    pub updated_at_ms: i64,
    /// Which of the stream's steps asked for it: only the newest's is kept.
    pub generation: u64,
    pub png: Vec<u8>,
}

/// The images of the streams' login steps, made beside the engine's loop
/// with bounded work: per stream one worker, which takes the newest step
/// only; across all, a few fetches and one decode at a time.
pub struct LoginImages {
    streams: HashMap<Arc<str>, StreamImages>,
    fetches: Arc<Semaphore>,
    decodes: Arc<Semaphore>,
    made: mpsc::Sender<MadeImage>,
}

/// One stream's worker and the step it is to work on next.
struct StreamImages {
    newest: Arc<NewestStep>,
    worker: tokio::task::JoinHandle<()>,
}

/// What a stream's worker shares with the engine: the newest step's
/// number, and its image to make until the worker takes it.
#[derive(Default)]
struct NewestStep {
    generation: AtomicU64,
    wanted: Mutex<Option<Wanted>>,
    changed: Notify,
}

struct Wanted {
    generation: u64,
    updated_at_ms: i64,
    origin: Url,
    source: ImageSource,
}

impl NewestStep {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn take(&self) -> Option<Wanted> {
        self.wanted.lock().ok().and_then(|mut wanted| wanted.take())
    }
}

impl LoginImages {
    /// The made images come out of the receiver.
    pub fn new() -> (LoginImages, mpsc::Receiver<MadeImage>) {
        let (made, receiver) = mpsc::channel(4);
        let images = LoginImages {
            streams: HashMap::new(),
            fetches: Arc::new(Semaphore::new(FETCHES_AT_ONCE)),
            decodes: Arc::new(Semaphore::new(DECODES_AT_ONCE)),
            made,
        };
        (images, receiver)
    }

    /// A login step of `server` was stored at `updated_at_ms`: make its
    /// image, if it names one, in place of any older step's. Needs a tokio
    /// runtime (the stream's worker is a task).
    pub fn newest_step(&mut self, server: &Arc<str>, updated_at_ms: i64, step: &Login) {
        let source = source_of(step);
        if source.is_none() && !self.streams.contains_key(server) {
            return;
        }
        let origin = Url::parse(server).ok();
        let stream = self.streams.entry(server.clone()).or_insert_with(|| {
            let newest = Arc::new(NewestStep::default());
            let worker = tokio::spawn(work(
                server.clone(),
                newest.clone(),
                self.fetches.clone(),
                self.decodes.clone(),
                self.made.clone(),
            ));
            StreamImages { newest, worker }
        });
        // A step without an image supersedes the older one's all the same.
        let generation = stream.newest.generation.fetch_add(1, Ordering::AcqRel) + 1;
        if let Ok(mut wanted) = stream.newest.wanted.lock() {
            *wanted = source.zip(origin).map(|(source, origin)| Wanted {
                generation,
                updated_at_ms,
                origin,
                source,
            });
        }
        stream.newest.changed.notify_one();
    }

    /// Whether `image` belongs to the newest step of its stream (an older
    /// step's image is never stored, even where it was stored in the
    /// same millisecond).
    pub fn is_newest(&self, image: &MadeImage) -> bool {
        self.streams
            .get(&image.server)
            .is_some_and(|stream| stream.newest.generation() == image.generation)
    }

    /// Stop the work of the streams `keep` says no to (no longer followed).
    pub fn keep_only(&mut self, keep: impl Fn(&str) -> bool) {
        self.streams.retain(|server, stream| {
            let kept = keep(server);
            if !kept {
                stream.worker.abort();
            }
            kept
        });
    }
}

impl Drop for LoginImages {
    fn drop(&mut self) {
        for stream in self.streams.values() {
            stream.worker.abort();
        }
    }
}

/// A stream's worker: the newest step's image, one at a time.
async fn work(
    server: Arc<str>,
    newest: Arc<NewestStep>,
    fetches: Arc<Semaphore>,
    decodes: Arc<Semaphore>,
    made: mpsc::Sender<MadeImage>,
) {
    loop {
        newest.changed.notified().await;
        while let Some(wanted) = newest.take() {
            let (generation, updated_at_ms) = (wanted.generation, wanted.updated_at_ms);
            match make(&newest, wanted, &fetches, &decodes).await {
                Ok(Some(png)) => {
                    let image = MadeImage {
                        server: server.clone(),
                        updated_at_ms,
                        generation,
                        png,
                    };
                    if made.send(image).await.is_err() {
                        return;
                    }
                }
                // A newer step came: the loop takes it.
                Ok(None) => {}
                Err(error) => tracing::warn!("login image not shown: {error}"),
            }
        }
    }
}

/// Fetch (if it must) and write anew one step's image; `None` once a newer
/// step has come. A fetch runs to its end (bounded in size and time), so
/// that the stream's fetches never overlap; a decode starts only for the
/// newest step, and its result is dropped if a newer one came meanwhile.
async fn make(
    newest: &NewestStep,
    wanted: Wanted,
    fetches: &Arc<Semaphore>,
    decodes: &Arc<Semaphore>,
) -> Result<Option<Vec<u8>>, ImageError> {
    let superseded = || newest.generation() != wanted.generation;
    let bytes = match wanted.source {
        ImageSource::Inline(bytes) => bytes,
        ImageSource::Remote(address) => {
            let Some(_fetching) = until_superseded(newest, wanted.generation, fetches.acquire())
                .await
                .and_then(Result::ok)
            else {
                return Ok(None);
            };
            fetch_in_time(&wanted.origin, &address).await?
        }
    };
    if superseded() {
        return Ok(None);
    }
    let Some(decoding) =
        until_superseded(newest, wanted.generation, decodes.clone().acquire_owned())
            .await
            .and_then(Result::ok)
    else {
        return Ok(None);
    };
    // The permit goes with the decode: it holds until the decode is over,
    // even if this task is aborted meanwhile.
    let png = tokio::task::spawn_blocking(move || {
        let _decoding = decoding;
        let png = reencode(&bytes);
        drop(bytes);
        // What the decode freed goes back at once, not at the next burst.
        crate::core::allocator::trim();
        png
    })
    .await
    .map_err(|error| ImageError::NotAnImage(error.to_string()))??;
    Ok((!superseded()).then_some(png))
}

/// `work`'s output, or `None` as soon as a step newer than `generation`
/// came.
async fn until_superseded<T>(
    newest: &NewestStep,
    generation: u64,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            output = &mut work => return Some(output),
            () = newest.changed.notified() => {
                if newest.generation() != generation {
                    return None;
                }
            }
        }
    }
}

/// Decode a PNG, JPEG, GIF or WebP within the pixel cap, shrink it to fit
/// [`STORED_SIDE`], and write it anew as a PNG.
pub fn reencode(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge);
    }
    let not_an_image = |error: &dyn std::fmt::Display| ImageError::NotAnImage(error.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| not_an_image(&error))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP) => {}
        _ => return Err(ImageError::NotAnImage("an unknown format".into())),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut picture = reader.decode().map_err(|error| not_an_image(&error))?;
    if picture.width() > STORED_SIDE || picture.height() > STORED_SIDE {
        // Sampled down in whole numbers into the smaller picture alone: a
        // filter would first make a copy in floating point, several times
        // the decoded picture's size.
        picture = picture.thumbnail(STORED_SIDE, STORED_SIDE);
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(picture.into_rgba8())
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|error| not_an_image(&error))?;
    Ok(png)
}

/// Fetch `address` for the stream at `server`, each hop checked by the URL
/// policy against the addresses the request will connect to.
async fn fetch(server: &Url, address: &str) -> Result<Vec<u8>, ImageError> {
    let mut url = Url::parse(address)
        .map_err(|_| ImageError::Refused(crate::protocol::url_policy::redacted_text(address)))?;
    for _ in 0..=MAX_REDIRECTS {
        let shown = redacted(&url);
        let addresses = resolve(&url).await.unwrap_or_default();
        let ips: Vec<IpAddr> = addresses.iter().map(SocketAddr::ip).collect();
        if !may_fetch_image(server, &url, &ips) {
            return Err(ImageError::Refused(shown));
        }
        let client = client_for(&url, &addresses)
            .map_err(|error| ImageError::Fetch(shown.clone(), error))?;
        let mut response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|error| ImageError::Fetch(shown.clone(), error.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| ImageError::Status(shown.clone(), status.as_u16()))?;
            url = crate::protocol::url_policy::redirect_target(&url, location)
                .map_err(|_| ImageError::Refused(shown.clone()))?;
            continue;
        }
        if !status.is_success() {
            return Err(ImageError::Status(shown, status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_IMAGE_BYTES as u64)
        {
            return Err(ImageError::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| ImageError::Fetch(shown.clone(), error.to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
                return Err(ImageError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(ImageError::TooManyRedirects)
}

/// The addresses `url`'s host stands for.
async fn resolve(url: &Url) -> std::io::Result<Vec<SocketAddr>> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Some(Host::Domain(name)) => Ok(tokio::net::lookup_host((name, port)).await?.collect()),
        None => Ok(Vec::new()),
    }
}

/// A client that connects to exactly the addresses that were checked (a
/// name that resolves anew to somewhere else is not asked again), follows
/// no redirect by itself and takes no proxy, which would connect elsewhere.
fn client_for(url: &Url, addresses: &[SocketAddr]) -> Result<reqwest::Client, String> {
    let tls = crate::protocol::sse::trust::tls_config(Vec::new(), None)
        .map_err(|error| error.to_string())?;
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("ssetray/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(FETCH_TIMEOUT)
        .use_preconfigured_tls(tls);
    if let Some(Host::Domain(name)) = url.host() {
        builder = builder.resolve_to_addrs(name, addresses);
    }
    builder.build().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::DynamicImage::new_rgb8(width, height)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    /// A PNG whose header declares `width` × `height`, with almost no data:
    /// what a hostile server sends to make a decoder allocate gigabytes.
    fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut real = png(1, 1);
        // IHDR's width and height sit right after the signature (8), the
        // chunk's length (4) and its type (4); its CRC follows its 13 bytes.
        real[16..20].copy_from_slice(&width.to_be_bytes());
        real[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&real[12..29]);
        real[29..33].copy_from_slice(&crc.to_be_bytes());
        real
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn images_are_written_anew_as_png_and_shrunk() {
        let mut jpeg = Vec::new();
        image::DynamicImage::new_rgb8(2000, 1000)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let stored = reencode(&jpeg).unwrap();
        assert!(stored.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoded = image::load_from_memory(&stored).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (1024, 512));
        let small = reencode(&png(64, 64)).unwrap();
        assert_eq!(image::load_from_memory(&small).unwrap().width(), 64);
    }

    #[test]
    fn a_png_declaring_60000_by_60000_is_refused_before_decoding() {
        let hostile = png_declaring(60_000, 60_000);
        assert_eq!(
            &hostile[16..24],
            [60_000u32.to_be_bytes(), 60_000u32.to_be_bytes()].concat()
        );
        let started = std::time::Instant::now();
        let error = reencode(&hostile).unwrap_err();
        assert!(matches!(error, ImageError::NotAnImage(_)), "{error}");
        // The same trick within the cap still decodes (the header is right).
        assert!(reencode(&png_declaring(1, 1)).is_ok());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn markup_and_other_formats_are_not_images() {
        for bytes in [
            &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"[..],
            b"\x89PNG\r\n\x1a\nnot really",
            b"BM\x00\x00",
            b"",
        ] {
            assert!(reencode(bytes).is_err(), "{bytes:?}");
        }
        assert!(matches!(
            reencode(&vec![0; MAX_IMAGE_BYTES + 1]),
            Err(ImageError::TooLarge)
        ));
    }

    #[test]
    fn sources_from_each_login_step() {
        let qr = base64::engine::general_purpose::STANDARD.encode(b"abc");
        assert_eq!(
            source_of(&Login::ScanQrCode {
                uuid: "u".into(),
                qr_png_base64: qr.clone(),
            }),
            Some(ImageSource::Inline(b"abc".to_vec()))
        );
        assert_eq!(
            source_of(&Login::ConfirmLogin {
                uuid: "u".into(),
                image: format!("data:image/png;base64,{qr}"),
            }),
            Some(ImageSource::Inline(b"abc".to_vec()))
        );
        assert_eq!(
            source_of(&Login::ConfirmLogin {
                uuid: "u".into(),
                image: "http://127.0.0.1:9/x.png".into(),
            }),
            Some(ImageSource::Remote("http://127.0.0.1:9/x.png".into()))
        );
        assert_eq!(source_of(&Login::LoggedOut { uuid: "u".into() }), None);
    }

    #[tokio::test]
    async fn of_many_steps_only_the_newest_image_is_made() {
        let (mut images, mut made) = LoginImages::new();
        let server: Arc<str> = "http://127.0.0.1:1/stream".into();
        let other: Arc<str> = "http://127.0.0.1:2/stream".into();
        for width in 1..=30 {
            let step = Login::ScanQrCode {
                uuid: "u".into(),
                qr_png_base64: base64::engine::general_purpose::STANDARD.encode(png(width, 1)),
            };
            images.newest_step(&server, i64::from(width), &step);
        }
        // Another stream's step, and a step without an image, which
        // supersedes the other stream's.
        let step = Login::ScanQrCode {
            uuid: "u".into(),
            qr_png_base64: base64::engine::general_purpose::STANDARD.encode(png(5, 5)),
        };
        images.newest_step(&other, 1, &step);
        images.newest_step(&other, 2, &Login::LoggedOut { uuid: "u".into() });
        let image = made.recv().await.unwrap();
        assert_eq!((&*image.server, image.updated_at_ms), (&*server, 30));
        assert!(images.is_newest(&image));
        assert_eq!(image::load_from_memory(&image.png).unwrap().width(), 30);
        // The one made image of the first stream's 30 steps.
        assert!(made.try_recv().is_err());
        images.keep_only(|_| false);
        assert!(!images.is_newest(&image));
    }

    #[tokio::test]
    async fn a_loopback_image_of_another_origin_is_never_asked_for() {
        let canary = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = canary.local_addr().unwrap();
        let server = Url::parse("http://127.0.0.1:1/stream").unwrap();
        let result = stored_png(
            &server,
            ImageSource::Remote(format!("http://{address}/avatar.png")),
        )
        .await;
        assert!(matches!(result, Err(ImageError::Refused(_))), "{result:?}");
        // A connection would be waiting already: the refusal came before
        // any connect, and a connect completes before the call returns.
        let accepted = tokio::time::timeout(Duration::ZERO, canary.accept()).await;
        assert!(accepted.is_err(), "the canary was called");
    }
}
