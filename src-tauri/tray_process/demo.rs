//! The embedded demo server: a realistic session for a user with no server.
//!
//! It plays what a seed-000 style app sends (a QR login with a real QR code
//! PNG, the confirm step, logged in, then notification counts and messages of
//! the other seeds' kinds) with ids, so resuming with `Last-Event-ID` works as
//! against a real server, and `: ping` heartbeats like sse-starlette. It is a
//! few dozen lines of HTTP/1.1 on tokio rather than a web framework because it
//! serves exactly two pages on loopback and must not weigh on the tray.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How fast the demo plays.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Pause between two events.
    pub interval: Duration,
    /// Pause between two heartbeats.
    pub ping_every: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            interval: Duration::from_secs(4),
            ping_every: Duration::from_secs(15),
        }
    }
}

/// Serve until the listener fails; each connection gets its own session.
pub async fn serve(listener: TcpListener, options: DemoOptions) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    loop {
        let (socket, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(error) = handle(socket, address, options).await {
                tracing::debug!("demo connection ended: {error}");
            }
        });
    }
}

async fn handle(
    mut socket: TcpStream,
    address: SocketAddr,
    options: DemoOptions,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = socket.read(&mut buffer).await?;
        if read == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("/");
    let last_event_id: u64 = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("last-event-id")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    if path == "/stream" || path.starts_with("/stream?") {
        socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\nretry: 3000\n\n")
            .await?;
        stream(socket, address, last_event_id + 1, options).await
    } else {
        let page = format!(
            "<!doctype html><meta charset=utf-8><title>SSE Tray demo</title>\
             <h1>SSE Tray demo server</h1><p>The event stream is at \
             <code>http://{address}/stream</code>. You opened <code>{}</code>.</p>",
            html_escape(path)
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        socket.write_all(response.as_bytes()).await
    }
}

async fn stream(
    mut socket: TcpStream,
    address: SocketAddr,
    mut next_id: u64,
    options: DemoOptions,
) -> std::io::Result<()> {
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + options.ping_every,
        options.ping_every,
    );
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + options.interval.min(Duration::from_secs(1)),
        options.interval,
    );
    loop {
        tokio::select! {
            _ = ping.tick() => socket.write_all(b": ping\n\n").await?,
            _ = tick.tick() => {
                let (event_type, data) = scene(next_id, address);
                let frame = format!("id: {next_id}\nevent: {event_type}\ndata: {data}\n\n");
                socket.write_all(frame.as_bytes()).await?;
                next_id += 1;
            }
        }
    }
}

/// Event number `n` of the demo session: a login, then a mix of the kinds
/// the seed servers send.
pub fn scene(n: u64, address: SocketAddr) -> (&'static str, String) {
    let uuid = "demo-session";
    let origin = format!("http://{address}");
    match n {
        1 => {
            let qr = qr_png(&format!("{origin}/login?uuid={uuid}"));
            let data = serde_json::json!({"type": "scan_qr_code", "uuid": uuid, "extra": base64::engine::general_purpose::STANDARD.encode(qr)});
            ("login", data.to_string())
        }
        2 => {
            let data = serde_json::json!({"type": "confirm_login", "uuid": uuid, "extra": format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(check_png()))});
            ("login", data.to_string())
        }
        3 => {
            let data = serde_json::json!({"type": "logged_in", "uuid": uuid, "extra": null, "user": {"name": "Demo User", "id": 1}});
            ("login", data.to_string())
        }
        _ => match n % 4 {
            0 => ("notification", serde_json::json!({"count": n % 7 + 1}).to_string()),
            1 => (
                "message",
                serde_json::json!({"title": "Build finished", "body": format!("Build #{n} passed"), "url": format!("{origin}/builds/{n}")}).to_string(),
            ),
            2 => (
                "new_answers",
                serde_json::json!({"question": "which programming is the best?", "value": "Absolutely, Rust", "who": "allen"}).to_string(),
            ),
            _ => ("message", format!("[12:00:{:02}] demo: hello number {n}", n % 60)),
        },
    }
}

/// A real QR code of `text` as a grey-scale PNG, 6 pixels a module with the
/// standard quiet zone of 4 modules.
pub fn qr_png(text: &str) -> Vec<u8> {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return Vec::new();
    };
    let modules = code.width();
    let colors = code.to_colors();
    let scale = 6;
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (mx, my) = (index % modules + quiet, index / modules + quiet);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    encode_gray_png(side as u32, side as u32, &pixels)
}

/// A green check mark on white, the confirm step's picture.
fn check_png() -> Vec<u8> {
    let side = 96usize;
    let mut pixels = vec![255u8; side * side];
    for x in 0..side {
        // Two strokes of the check, 8 pixels thick.
        let y = if x < 40 { 50 + x / 2 } else { 70 - (x - 40) };
        for dy in 0..8 {
            if let Some(row) = (y + dy).checked_sub(8) {
                if row < side && x > 16 && x < 88 {
                    pixels[row * side + x] = 90;
                }
            }
        }
    }
    encode_gray_png(side as u32, side as u32, &pixels)
}

fn encode_gray_png(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(pixels));
    if written.is_err() {
        return Vec::new();
    }
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_code_is_a_png() {
        let png = qr_png("http://127.0.0.1:1/login?uuid=x");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        assert!(reader.info().width >= 21 * 6);
    }

    #[test]
    fn the_session_starts_with_a_login() {
        let address: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let (kind, data) = scene(1, address);
        assert_eq!(kind, "login");
        assert!(data.contains("scan_qr_code"));
        assert_eq!(scene(3, address).0, "login");
        let kinds: Vec<_> = (4..12).map(|n| scene(n, address).0).collect();
        assert!(kinds.contains(&"notification"));
        assert!(kinds.contains(&"message"));
    }
}
