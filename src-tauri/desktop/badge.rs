//! The tray icon, drawn at run time: the app icon with the unread count in a
//! red badge, greyed out while not connected.
//!
//! Drawn from geometry at each requested size (rather than scaling one
//! bitmap) so that it stays crisp from 16 to 64 px, and in plain Rust so the
//! tray process needs no graphics library. Digits come from a 3x5 pixel font,
//! scaled by whole pixels.

use crate::ipc::Connected;

/// An RGBA image, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub size: u32,
    pub rgba: Vec<u8>,
}

impl Image {
    /// ARGB32 in network byte order, as StatusNotifierItem's `IconPixmap`
    /// wants.
    pub fn argb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rgba.len());
        for pixel in self.rgba.chunks_exact(4) {
            out.extend_from_slice(&[pixel[3], pixel[0], pixel[1], pixel[2]]);
        }
        out
    }

    fn blend(&mut self, x: u32, y: u32, colour: [u8; 3], coverage: f32) {
        if x >= self.size || y >= self.size || coverage <= 0.0 {
            return;
        }
        let index = ((y * self.size + x) * 4) as usize;
        let alpha = coverage.min(1.0);
        let pixel = &mut self.rgba[index..index + 4];
        for channel in 0..3 {
            pixel[channel] = (pixel[channel] as f32 * (1.0 - alpha)
                + colour[channel] as f32 * alpha)
                .round() as u8;
        }
        pixel[3] = (pixel[3] as f32 + (255.0 - pixel[3] as f32) * alpha).round() as u8;
    }
}

const BLUE: [u8; 3] = [37, 99, 235];
const GREY: [u8; 3] = [120, 124, 132];
const WHITE: [u8; 3] = [255, 255, 255];
const RED: [u8; 3] = [220, 38, 38];

/// The text of the badge: nothing for zero, 1–99, then `99+`.
pub fn badge_text(unread: u64) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".to_string()),
    }
}

/// Draw the tray icon at `size` pixels: blue while every subscription is
/// connected, grey while none is, blue with a grey dot in the lower right
/// corner while only some are.
pub fn render(size: u32, unread: u64, connected: Connected) -> Image {
    let mut image = Image {
        size,
        rgba: vec![0; (size * size * 4) as usize],
    };
    let background = if connected == Connected::None {
        GREY
    } else {
        BLUE
    };
    let samples = 4;
    for y in 0..size {
        for x in 0..size {
            let mut square = 0.0;
            let mut symbol = 0.0;
            for sy in 0..samples {
                for sx in 0..samples {
                    let u = (x as f32 + (sx as f32 + 0.5) / samples as f32) / size as f32;
                    let v = (y as f32 + (sy as f32 + 0.5) / samples as f32) / size as f32;
                    if in_rounded_square(u, v) {
                        square += 1.0;
                        if in_feed_symbol(u, v) {
                            symbol += 1.0;
                        }
                    }
                }
            }
            let total = (samples * samples) as f32;
            image.blend(x, y, background, square / total);
            if square > 0.0 {
                image.blend(x, y, WHITE, symbol / square);
            }
        }
    }
    if connected == Connected::Some {
        draw_partial_mark(&mut image);
    }
    if let Some(text) = badge_text(unread) {
        draw_badge(&mut image, &text);
    }
    image
}

/// A grey dot ringed in white in the lower right corner: some subscriptions
/// are not connected.
fn draw_partial_mark(image: &mut Image) {
    let size = image.size as f32;
    let (cx, cy, radius, ring) = (0.80 * size, 0.80 * size, 0.17 * size, 0.05 * size);
    for y in 0..image.size {
        for x in 0..image.size {
            let distance = (x as f32 + 0.5 - cx).hypot(y as f32 + 0.5 - cy);
            if distance <= radius {
                image.blend(x, y, GREY, 1.0);
            } else if distance <= radius + ring {
                image.blend(x, y, WHITE, 1.0);
            }
        }
    }
}

fn in_rounded_square(u: f32, v: f32) -> bool {
    let (margin, radius) = (0.03, 0.22);
    let cx = u.clamp(margin + radius, 1.0 - margin - radius);
    let cy = v.clamp(margin + radius, 1.0 - margin - radius);
    (u - cx).hypot(v - cy) <= radius
}

/// A dot and two quarter rings around it, as in `icons/icon.png`.
fn in_feed_symbol(u: f32, v: f32) -> bool {
    let (dx, dy) = (u - 0.30, 0.70 - v);
    let r = dx.hypot(dy);
    if r < 0.085 {
        return true;
    }
    dx >= -0.001 && dy >= -0.001 && [0.30f32, 0.52].iter().any(|ring| (r - ring).abs() < 0.047)
}

/// 3x5 pixel glyphs for the digits and `+`, one row a byte (3 low bits).
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        _ => [0; 5],
    }
}

/// A red pill in the top right corner with the text in white, as large as
/// fits: the text's pixel scale is a whole number so the glyphs stay sharp.
fn draw_badge(image: &mut Image, text: &str) {
    let size = image.size as i32;
    let chars = text.chars().count() as i32;
    // Glyph width 3 with 1 pixel between glyphs, in font pixels.
    let text_width = chars * 4 - 1;
    let max_width = size * 9 / 10;
    let scale = ((size * 6 / 10) / 7)
        .min((max_width - 2) / (text_width + 2))
        .max(1);
    let height = 7 * scale;
    let width = ((text_width + 2) * scale).max(height);
    let left = size - width;
    let top = 0;
    let radius = height as f32 / 2.0;
    for y in top..top + height {
        for x in left..left + width {
            // Coverage of the pill by 4x4 samples.
            let mut inside = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    let px = x as f32 + (sx as f32 + 0.5) / 4.0 - left as f32;
                    let py = y as f32 + (sy as f32 + 0.5) / 4.0 - top as f32;
                    let cx = px.clamp(radius, width as f32 - radius);
                    if (px - cx).hypot(py - radius) <= radius {
                        inside += 1;
                    }
                }
            }
            image.blend(x as u32, y as u32, RED, inside as f32 / 16.0);
        }
    }
    let text_left = left + (width - text_width * scale) / 2;
    let text_top = top + scale;
    for (index, c) in text.chars().enumerate() {
        let rows = glyph(c);
        for (row, bits) in rows.iter().enumerate() {
            for column in 0..3 {
                if bits & (0b100 >> column) == 0 {
                    continue;
                }
                let x0 = text_left + (index as i32 * 4 + column) * scale;
                let y0 = text_top + row as i32 * scale;
                for y in y0..y0 + scale {
                    for x in x0..x0 + scale {
                        if x >= 0 && y >= 0 {
                            image.blend(x as u32, y as u32, WHITE, 1.0);
                        }
                    }
                }
            }
        }
    }
}

/// Encode as a PNG (for the tests' and the README's eyes).
pub fn to_png(image: &Image) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.size, image.size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&image.rgba));
    if written.is_err() {
        return Vec::new();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red_pixels(image: &Image) -> usize {
        image
            .rgba
            .chunks_exact(4)
            .filter(|p| p[0] > 200 && p[1] < 80 && p[2] < 80 && p[3] > 200)
            .count()
    }

    #[test]
    fn badge_text_caps_at_99_plus() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(7).as_deref(), Some("7"));
        assert_eq!(badge_text(99).as_deref(), Some("99"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
    }

    #[test]
    fn the_count_changes_the_pixels_and_zero_clears_the_badge() {
        for size in [16, 22, 24, 32, 48, 64] {
            let clear = render(size, 0, Connected::All);
            assert_eq!(red_pixels(&clear), 0, "{size}");
            let three = render(size, 3, Connected::All);
            let many = render(size, 250, Connected::All);
            assert!(red_pixels(&three) > 0, "{size}");
            assert_ne!(three, many, "{size}");
            assert_ne!(three, render(size, 4, Connected::All), "{size}");
        }
    }

    #[test]
    fn not_connected_looks_different() {
        let connected = render(32, 0, Connected::All);
        let offline = render(32, 0, Connected::None);
        let partly = render(32, 0, Connected::Some);
        assert_ne!(partly, connected);
        assert_ne!(partly, offline);
        assert_ne!(connected, offline);
        // No blue left when offline.
        assert!(offline
            .rgba
            .chunks_exact(4)
            .all(|p| !(p[2] > 200 && p[0] < 80)));
    }

    #[test]
    fn argb_is_network_order() {
        let image = Image {
            size: 1,
            rgba: vec![1, 2, 3, 4],
        };
        assert_eq!(image.argb(), vec![4, 1, 2, 3]);
    }
}
