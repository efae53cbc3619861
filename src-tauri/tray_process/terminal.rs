//! Server text on its way to a terminal.
//!
//! A terminal obeys the bytes it is given: ESC starts a sequence that moves
//! the cursor, clears lines, retitles the window or writes a hyperlink, and
//! the C1 characters U+009B (CSI) and U+009D (OSC) do the same once a
//! terminal decodes UTF-8. A server's type name, id, data or
//! `Content-Type` may hold any of them, so every command that prints server
//! text in its human output passes it through [`for_terminal`], the one
//! place that decides what a terminal may see. `--json` output goes through
//! [`json_for_terminal`]: the encoder escapes C0 controls but writes DEL, C1
//! and direction controls as they are, which JSON allows and a terminal
//! obeys, so those are written as `\uXXXX` escapes (the same JSON value).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::core::description::is_direction_control;

/// `text` with every control a terminal would act on written out as a
/// visible escape (`\x1b`, `\u{9b}`, `\u{202e}`): C0 controls but for line
/// feeds and tabs (a line feed in an event's data starts a new line, as the
/// data says), DEL, the C1 controls, and the characters that override or
/// isolate a writing direction. Everything else is printed as it is.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// [`for_terminal`] for text that must stay on one line (a type name, an
/// id, a state): line feeds escaped too.
pub fn for_terminal_line(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return for_terminal(text);
    }
    Cow::Owned(for_terminal(text).replace('\n', "\\x0a"))
}

/// JSON text with the characters [`for_terminal`] escapes written as JSON
/// `\uXXXX` escapes. Those characters can only stand inside JSON strings,
/// where the escape means the same character, so the value is unchanged.
pub fn json_for_terminal(json: String) -> String {
    if !json.chars().any(needs_escape) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || is_direction_control(c)
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_as_it_is() {
        let text = "新版本已部署 (id 42)\tok\nnext line";
        assert!(matches!(for_terminal(text), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_csi_osc_del_and_direction_controls_are_written_out() {
        let hostile =
            "a\u{1b}]0;owned\u{7}b\u{9b}2Jc\u{9d}8;;http://x\u{9c}d\u{7f}e\r\u{202e}gnp.exe";
        let shown = for_terminal(hostile);
        assert_eq!(
            shown,
            "a\\x1b]0;owned\\x07b\\u{9b}2Jc\\u{9d}8;;http://x\\u{9c}d\\x7fe\\x0d\\u{202e}gnp.exe"
        );
        assert!(!shown.chars().any(needs_escape));
    }

    #[test]
    fn json_keeps_its_value_with_every_terminal_control_escaped() {
        let value = serde_json::json!({"data": "a\u{9b}2J\u{7f}\u{1b}\u{202e}b\n"});
        let json = json_for_terminal(value.to_string());
        assert!(!json.chars().any(needs_escape), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn one_line_text_escapes_line_feeds_too() {
        assert_eq!(for_terminal_line("a\nb\u{1b}"), "a\\x0ab\\x1b");
        assert_eq!(for_terminal("a\nb"), "a\nb");
    }
}
