//! The event stream parser: bytes in, [`Item`]s out.
//!
//! This is the WHATWG HTML Standard's "Interpreting an event stream"
//! (section 9.2.6) and nothing else: it knows lines, fields and dispatch, not
//! sockets, reconnects or what an event means. It is a push parser, fed with
//! whatever reads the network happens to return, because a read can end
//! anywhere: inside a UTF-8 sequence, between a CR and its LF, or in the
//! middle of a field name. Every split of the same bytes yields the same items
//! (a property test checks this).
//!
//! Shape and cost: complete lines are parsed straight out of the caller's
//! buffer; only a line that straddles two reads is copied. Text is decoded per
//! line, which is correct because CR and LF never occur inside a UTF-8
//! sequence. Memory is bounded by [`Limits`]: an over-long line or event is
//! dropped with a warning and the stream goes on.

use std::sync::Arc;
use std::time::Duration;

/// How large a single line and a single event may grow before they are
/// dropped. The server is untrusted: without a bound, one endless line would
/// take all memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line kept, in bytes, without its line ending.
    pub max_line_bytes: usize,
    /// Largest data buffer of one event, in bytes.
    pub max_event_bytes: usize,
}

/// One MiB: well above any real notification, well below trouble.
pub const DEFAULT_LIMIT_BYTES: usize = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: DEFAULT_LIMIT_BYTES,
            max_event_bytes: DEFAULT_LIMIT_BYTES,
        }
    }
}

/// A dispatched event, as a browser's `MessageEvent` would carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, or `message` when the block named none. Shared
    /// (`Arc`) because a stream repeats a handful of types: the parser hands
    /// out the same allocation for a repeated type or id.
    pub event_type: Arc<str>,
    /// The `data` lines joined with LF.
    pub data: String,
    /// `MessageEvent.lastEventId`: the last `id` seen on the stream so far
    /// (possibly from an earlier block), `""` when none.
    pub last_event_id: Arc<str>,
    /// Whether this event's own block carried an `id` field. Only such an id
    /// names this event; an inherited one names an earlier event.
    pub has_own_id: bool,
}

/// What the parser hands to its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event(SseEvent),
    /// A valid `retry` field: the new reconnection time.
    Retry(Duration),
    /// A comment line (`: ping`): carries nothing, but proves the server is
    /// alive, which the client uses to detect dead connections.
    Comment,
}

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// The parser's state between reads.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    /// Bytes of a line that started in an earlier read.
    partial_line: Vec<u8>,
    /// The current line went over the limit: drop bytes up to its end.
    skipping_line: bool,
    /// The previous read ended with CR: an LF at the start of the next read
    /// belongs to that line ending.
    after_cr: bool,
    /// How many bytes of a leading BOM have been matched; `None` once the
    /// start of the stream is behind us.
    bom_matched: Option<usize>,
    data: String,
    event_type: String,
    /// The standard's "last event ID buffer": set by `id` fields.
    id_buffer: String,
    /// The event source's "last event ID string": the buffer as of the last
    /// blank line. Only this survives a reconnect, so an id inside an event
    /// cut off by the end of a stream is not sent as `Last-Event-ID`.
    last_event_id: Arc<str>,
    /// The type of the last dispatched event, to share its allocation.
    last_type: Arc<str>,
    has_own_id: bool,
    /// The current event went over the limit: discard it at its blank line.
    skipping_event: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(Limits::default())
    }
}

impl Parser {
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            partial_line: Vec::new(),
            skipping_line: false,
            after_cr: false,
            bom_matched: Some(0),
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: Arc::from(""),
            last_type: Arc::from("message"),
            has_own_id: false,
            skipping_event: false,
        }
    }

    /// A parser for a new stream that continues the last event id of an
    /// earlier one, as `EventSource` does across a reconnect.
    pub fn with_last_event_id(limits: Limits, last_event_id: &str) -> Self {
        let mut parser = Parser::new(limits);
        parser.id_buffer.push_str(last_event_id);
        parser.last_event_id = Arc::from(last_event_id);
        parser
    }

    /// The last event id as of the last complete block: what a reconnect
    /// sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Forget the last event id: the next connection asks for no replay.
    /// For a resume point the server refuses, or one the user reset.
    pub fn forget_last_event_id(&mut self) {
        self.id_buffer.clear();
        self.last_event_id = Arc::from("");
    }

    /// Forget everything of the current stream but the last event id, for
    /// the next connection. An event cut off by the end of a stream is
    /// discarded, as the standard says.
    pub fn start_new_stream(&mut self) {
        let last_event_id = self.last_event_id.clone();
        *self = Parser::with_last_event_id(self.limits, &last_event_id);
    }

    /// Parse one read's worth of bytes, handing each item to `emit`.
    pub fn feed(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(Item)) {
        if let Some(matched) = self.bom_matched {
            bytes = match self.skip_bom(matched, bytes, emit) {
                Some(rest) => rest,
                None => return,
            };
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(end) = memchr::memchr2(b'\r', b'\n', bytes) {
            if self.partial_line.is_empty() && !self.skipping_line {
                self.check_line_length(end);
                if !self.skipping_line {
                    self.process_line(&bytes[..end], emit);
                }
            } else {
                self.append_partial(&bytes[..end]);
                let line = std::mem::take(&mut self.partial_line);
                if !self.skipping_line {
                    self.process_line(&line, emit);
                }
                // Keep the allocation for the next straddling line.
                self.partial_line = line;
                self.partial_line.clear();
            }
            self.skipping_line = false;
            let ending = bytes[end];
            bytes = &bytes[end + 1..];
            if ending == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.append_partial(bytes);
    }

    /// Feed a whole stream at once and collect its items (tests, tools).
    pub fn parse_all(limits: Limits, bytes: &[u8]) -> Vec<Item> {
        let mut parser = Parser::new(limits);
        let mut items = Vec::new();
        parser.feed(bytes, &mut |item| items.push(item));
        items
    }

    /// Strips one leading BOM, which may arrive split over reads. Returns the
    /// bytes left to parse, or `None` when they were all BOM bytes.
    fn skip_bom<'a>(
        &mut self,
        mut matched: usize,
        bytes: &'a [u8],
        emit: &mut impl FnMut(Item),
    ) -> Option<&'a [u8]> {
        let mut used = 0;
        while matched < BOM.len() {
            match bytes.get(used) {
                None => {
                    self.bom_matched = Some(matched);
                    return None;
                }
                Some(&byte) if byte == BOM[matched] => {
                    matched += 1;
                    used += 1;
                }
                Some(_) => {
                    // Not a BOM after all: the bytes held back are content.
                    self.bom_matched = None;
                    if matched > 0 {
                        self.feed(&BOM[..matched], emit);
                    }
                    return Some(&bytes[used..]);
                }
            }
        }
        self.bom_matched = None;
        Some(&bytes[used..])
    }

    fn check_line_length(&mut self, extra: usize) {
        if !self.skipping_line && self.partial_line.len() + extra > self.limits.max_line_bytes {
            tracing::warn!(
                limit = self.limits.max_line_bytes,
                "dropping an event stream line over the size limit, and the event it belongs to"
            );
            self.skipping_line = true;
            self.skipping_event = true;
            self.partial_line = Vec::new();
        }
    }

    fn append_partial(&mut self, bytes: &[u8]) {
        self.check_line_length(bytes.len());
        if !self.skipping_line {
            self.partial_line.extend_from_slice(bytes);
        }
    }

    fn process_line(&mut self, line: &[u8], emit: &mut impl FnMut(Item)) {
        if line.is_empty() {
            self.dispatch(emit);
            return;
        }
        if line[0] == b':' {
            emit(Item::Comment);
            return;
        }
        // The colon ends a field name of a few bytes: a plain scan finds it
        // sooner than a vectorised search pays for its setup.
        let (field, mut value) = match line.iter().position(|&byte| byte == b':') {
            Some(colon) => (&line[..colon], &line[colon + 1..]),
            None => (line, &line[line.len()..]),
        };
        if value.first() == Some(&b' ') {
            value = &value[1..];
        }
        match field {
            b"data" => self.append_data(value),
            b"event" => {
                self.event_type.clear();
                push_lossy(&mut self.event_type, value);
            }
            // An id with NUL is ignored.
            b"id" if !value.contains(&0) => {
                self.id_buffer.clear();
                push_lossy(&mut self.id_buffer, value);
                self.has_own_id = true;
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits, so this only fails on overflow: ignore then.
                if let Some(ms) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|digits| digits.parse::<u64>().ok())
                {
                    emit(Item::Retry(Duration::from_millis(ms)));
                }
            }
            _ => {}
        }
    }

    fn append_data(&mut self, value: &[u8]) {
        if self.skipping_event {
            return;
        }
        if self.data.len() + value.len() + 1 > self.limits.max_event_bytes {
            self.drop_oversized_event();
            return;
        }
        // One allocation for the value and its LF, not a second to grow.
        self.data.reserve(value.len() + 1);
        push_lossy(&mut self.data, value);
        self.data.push('\n');
        // Checked again once decoded: an invalid byte becomes a three-byte
        // U+FFFD, so the text can outgrow the bytes that made it.
        if self.data.len() > self.limits.max_event_bytes {
            self.drop_oversized_event();
        }
    }

    fn drop_oversized_event(&mut self) {
        tracing::warn!(
            limit = self.limits.max_event_bytes,
            "dropping an event whose data is over the size limit"
        );
        self.skipping_event = true;
        self.data = String::new();
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(Item)) {
        if *self.last_event_id != *self.id_buffer {
            self.last_event_id = Arc::from(self.id_buffer.as_str());
        }
        let has_own_id = std::mem::take(&mut self.has_own_id);
        if std::mem::take(&mut self.skipping_event) || self.data.is_empty() {
            self.data.clear();
            self.event_type.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let event_type = if self.event_type.is_empty() {
            "message"
        } else {
            self.event_type.as_str()
        };
        if *self.last_type != *event_type {
            self.last_type = Arc::from(event_type);
        }
        self.event_type.clear();
        emit(Item::Event(SseEvent {
            event_type: self.last_type.clone(),
            data,
            last_event_id: self.last_event_id.clone(),
            has_own_id,
        }));
    }
}

/// Append bytes as UTF-8, invalid sequences becoming U+FFFD.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    let valid = if bytes.len() < 64 {
        std::str::from_utf8(bytes).ok()
    } else {
        simdutf8::basic::from_utf8(bytes).ok()
    };
    match valid {
        Some(text) => out.push_str(text),
        None => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(event_type: &str, data: &str, id: &str) -> Item {
        Item::Event(SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: id.into(),
            has_own_id: false,
        })
    }

    fn own(item: Item) -> Item {
        match item {
            Item::Event(mut e) => {
                e.has_own_id = true;
                Item::Event(e)
            }
            other => other,
        }
    }

    fn retry(ms: u64) -> Item {
        Item::Retry(Duration::from_millis(ms))
    }

    fn parse(bytes: &[u8]) -> Vec<Item> {
        Parser::parse_all(Limits::default(), bytes)
    }

    /// Every rule of "Interpreting an event stream", one row each.
    fn rule_table() -> Vec<(&'static str, &'static [u8], Vec<Item>)> {
        vec![
            (
                "simple event",
                b"data: hi\n\n",
                vec![event("message", "hi", "")],
            ),
            (
                "LF line endings",
                b"data: a\n\ndata: b\n\n",
                vec![event("message", "a", ""), event("message", "b", "")],
            ),
            (
                "CR line endings",
                b"data: a\r\rdata: b\r\r",
                vec![event("message", "a", ""), event("message", "b", "")],
            ),
            (
                "CRLF line endings",
                b"data: a\r\n\r\n",
                vec![event("message", "a", "")],
            ),
            (
                "mixed line endings",
                b"data: a\r\ndata: b\rdata: c\n\r\n",
                vec![event("message", "a\nb\nc", "")],
            ),
            (
                "data lines joined with LF",
                b"data: one\ndata: two\ndata\n\n",
                vec![event("message", "one\ntwo\n", "")],
            ),
            (
                "one leading space stripped",
                b"data:  two spaces\n\n",
                vec![event("message", " two spaces", "")],
            ),
            (
                "no space after colon",
                b"data:tight\n\n",
                vec![event("message", "tight", "")],
            ),
            (
                "colon in value kept",
                b"data: a: b\n\n",
                vec![event("message", "a: b", "")],
            ),
            (
                "field without colon is field with empty value",
                b"data\ndata\n\n",
                vec![event("message", "\n", "")],
            ),
            (
                "comment ignored",
                b": hello\ndata: x\n\n",
                vec![Item::Comment, event("message", "x", "")],
            ),
            (
                "comment only block dispatches nothing",
                b": ping\n\n",
                vec![Item::Comment],
            ),
            (
                "unknown field ignored",
                b"foo: bar\ndata: x\n\n",
                vec![event("message", "x", "")],
            ),
            (
                "block of unknown fields dispatches nothing",
                b"foo: bar\nbaz\n\n",
                vec![],
            ),
            (
                "field names are case sensitive",
                b"Data: x\nDATA: y\n\n",
                vec![],
            ),
            (
                "event type",
                b"event: login\ndata: {}\n\n",
                vec![event("login", "{}", "")],
            ),
            (
                "event type resets after dispatch",
                b"event: a\ndata: 1\n\ndata: 2\n\n",
                vec![event("a", "1", ""), event("message", "2", "")],
            ),
            (
                "empty event field means message",
                b"event\ndata: 1\n\n",
                vec![event("message", "1", "")],
            ),
            (
                "event type without data dispatches nothing and resets",
                b"event: a\n\ndata: 2\n\n",
                vec![event("message", "2", "")],
            ),
            ("empty data buffer dispatches nothing", b"\n\n\n", vec![]),
            (
                "data with empty value dispatches empty string",
                b"data\n\ndata:\n\n",
                vec![event("message", "", ""), event("message", "", "")],
            ),
            (
                "id carried to later events",
                b"id: 7\ndata: a\n\ndata: b\n\n",
                vec![own(event("message", "a", "7")), event("message", "b", "7")],
            ),
            (
                "id field alone sets last id",
                b"id: 9\n\ndata: b\n\n",
                vec![event("message", "b", "9")],
            ),
            (
                "empty id resets last id",
                b"id: 1\ndata: a\n\nid\ndata: b\n\n",
                vec![
                    own(event("message", "a", "1")),
                    own(event("message", "b", "")),
                ],
            ),
            (
                "id with NUL ignored",
                b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
                vec![own(event("message", "a", "1")), event("message", "b", "1")],
            ),
            (
                "id set after data in the same block still applies",
                b"data: a\nid: 5\n\n",
                vec![own(event("message", "a", "5"))],
            ),
            ("retry digits", b"retry: 2500\n", vec![retry(2500)]),
            ("retry zero", b"retry: 0\n", vec![retry(0)]),
            (
                "retry with non digits ignored",
                b"retry: 25x\nretry: -1\nretry: 1.5\nretry:  10\n",
                vec![],
            ),
            ("retry empty ignored", b"retry\nretry:\n", vec![]),
            (
                "retry overflow ignored",
                b"retry: 99999999999999999999999\n",
                vec![],
            ),
            (
                "unterminated event at end discarded",
                b"data: a\n\ndata: b\n",
                vec![event("message", "a", "")],
            ),
            ("unterminated line at end discarded", b"data: a", vec![]),
            (
                "leading BOM stripped",
                b"\xEF\xBB\xBFdata: a\n\n",
                vec![event("message", "a", "")],
            ),
            (
                "only one BOM stripped",
                b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n",
                vec![],
            ),
            (
                "BOM later is content",
                b"data: a\n\n\xEF\xBB\xBFdata: b\n\n",
                vec![event("message", "a", "")],
            ),
            (
                "invalid UTF-8 replaced",
                b"data: a\xFFb\n\n",
                vec![event("message", "a\u{FFFD}b", "")],
            ),
            (
                "truncated UTF-8 replaced",
                b"data: \xE2\x82\n\n",
                vec![event("message", "\u{FFFD}", "")],
            ),
            (
                "invalid UTF-8 in unknown field harmless",
                b"\xFF\xFE: x\ndata: ok\n\n",
                vec![event("message", "ok", "")],
            ),
            (
                "non-ASCII text",
                "data: 扫码成功 ✓\n\n".as_bytes(),
                vec![event("message", "扫码成功 ✓", "")],
            ),
            (
                "space before colon is part of field name",
                b"data : x\n\n",
                vec![],
            ),
            (
                "NUL in data kept",
                b"data: a\x00b\n\n",
                vec![event("message", "a\u{0}b", "")],
            ),
        ]
    }

    #[test]
    fn every_rule_of_the_standard() {
        for (name, input, expected) in rule_table() {
            assert_eq!(parse(input), expected, "rule: {name}");
        }
    }

    #[test]
    fn every_rule_holds_for_every_two_way_split() {
        for (name, input, expected) in rule_table() {
            for cut in 0..=input.len() {
                let mut parser = Parser::default();
                let mut items = Vec::new();
                parser.feed(&input[..cut], &mut |i| items.push(i));
                parser.feed(&input[cut..], &mut |i| items.push(i));
                assert_eq!(items, expected, "rule: {name}, cut at {cut}");
            }
        }
    }

    #[test]
    fn cr_and_lf_in_different_reads_are_one_line_ending() {
        let mut parser = Parser::default();
        let mut items = Vec::new();
        for read in [&b"data: a\r"[..], b"\n", b"\r", b"\n"] {
            parser.feed(read, &mut |i| items.push(i));
        }
        assert_eq!(items, vec![event("message", "a", "")]);
    }

    #[test]
    fn over_long_line_drops_its_event_and_the_stream_goes_on() {
        let limits = Limits {
            max_line_bytes: 16,
            max_event_bytes: 1024,
        };
        let mut input = b"data: before\n\n".to_vec();
        input.extend_from_slice(b"data: ");
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend_from_slice(b"\ndata: tail\n\ndata: after\n\n");
        let expected = vec![
            event("message", "before", ""),
            event("message", "after", ""),
        ];
        assert_eq!(Parser::parse_all(limits, &input), expected);
        // And in tiny reads, where the long line straddles many of them.
        let mut parser = Parser::new(limits);
        let mut items = Vec::new();
        for chunk in input.chunks(3) {
            parser.feed(chunk, &mut |i| items.push(i));
            assert!(parser.partial_line.len() <= 16, "memory stays bounded");
        }
        assert_eq!(items, expected);
    }

    #[test]
    fn over_large_event_is_dropped_and_the_stream_goes_on() {
        let limits = Limits {
            max_line_bytes: 64,
            max_event_bytes: 40,
        };
        let mut input = Vec::new();
        for _ in 0..10 {
            input.extend_from_slice(b"data: 0123456789\n");
        }
        input.extend_from_slice(b"\ndata: small\n\n");
        assert_eq!(
            Parser::parse_all(limits, &input),
            vec![event("message", "small", "")]
        );
    }

    #[test]
    fn invalid_bytes_cannot_grow_an_event_past_the_limit() {
        // Found by the fuzzer: 20 invalid bytes are within a 40-byte limit,
        // but decode to 20 three-byte U+FFFD, 60 bytes of text.
        let limits = Limits {
            max_line_bytes: 64,
            max_event_bytes: 40,
        };
        let mut input = b"data: ".to_vec();
        input.extend_from_slice(&[0xff; 20]);
        input.extend_from_slice(b"\n\ndata: small\n\n");
        assert_eq!(
            Parser::parse_all(limits, &input),
            vec![event("message", "small", "")]
        );
        // At the limit, decoded, it is kept.
        let mut input = b"data: ".to_vec();
        input.extend_from_slice(&[0xff; 13]);
        input.extend_from_slice(b"\n\n");
        assert_eq!(
            Parser::parse_all(limits, &input),
            vec![event("message", &"\u{FFFD}".repeat(13), "")]
        );
    }

    #[test]
    fn default_limit_is_one_mebibyte() {
        // "data:" and the value make a line of exactly the limit.
        let big = "y".repeat(DEFAULT_LIMIT_BYTES - 5);
        let ok = format!("data:{big}\n\n");
        assert_eq!(parse(ok.as_bytes()), vec![event("message", &big, "")]);
        let too_big = format!("data:{big}y\n\ndata: next\n\n");
        assert_eq!(
            parse(too_big.as_bytes()),
            vec![event("message", "next", "")]
        );
    }

    #[test]
    fn an_id_in_an_unfinished_block_is_not_the_last_event_id() {
        let mut parser = Parser::default();
        parser.feed(b"id: 1\ndata: a\n\nid: 2\ndata: cut", &mut |_| {});
        assert_eq!(parser.last_event_id(), "1");
        parser.start_new_stream();
        let mut items = Vec::new();
        parser.feed(b"data: b\n\n", &mut |i| items.push(i));
        assert_eq!(items, vec![event("message", "b", "1")]);
        // An id-only block counts once its blank line arrives.
        parser.feed(b"id: 3\n", &mut |_| {});
        assert_eq!(parser.last_event_id(), "1");
        parser.feed(b"\n", &mut |_| {});
        assert_eq!(parser.last_event_id(), "3");
    }

    #[test]
    fn a_new_stream_keeps_only_the_last_event_id() {
        let mut parser = Parser::default();
        let mut items = Vec::new();
        parser.feed(
            b"\xEF\xBB\xBFid: 42\ndata: a\n\nevent: x\ndata: cut off",
            &mut |i| items.push(i),
        );
        parser.start_new_stream();
        assert_eq!(parser.last_event_id(), "42");
        parser.feed(b"\xEF\xBB\xBFdata: b\n\n", &mut |i| items.push(i));
        assert_eq!(
            items,
            vec![
                own(event("message", "a", "42")),
                event("message", "b", "42")
            ]
        );
    }

    /// A stream that mixes every construct, for the split property.
    fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"data: hello\n".to_vec()),
            Just(b"data:w\xC3\xB6rld\r\n".to_vec()),
            Just(b"data: \xE6\x89\xAB\xFF\r".to_vec()),
            Just(b"event: login\n".to_vec()),
            Just(b"id: 12\n".to_vec()),
            Just(b"id: a\x00b\n".to_vec()),
            Just(b"retry: 1500\n".to_vec()),
            Just(b": ping\r\n".to_vec()),
            Just(b"junk field\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".to_vec()),
        ];
        (any::<bool>(), prop::collection::vec(piece, 0..40)).prop_map(|(bom, pieces)| {
            let mut bytes = if bom { BOM.to_vec() } else { Vec::new() };
            bytes.extend(pieces.concat());
            bytes
        })
    }

    proptest! {
        #[test]
        fn every_split_into_reads_yields_the_same_items(
            input in stream_strategy(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            // Small limits so that the size rules are exercised as well.
            let limits = Limits { max_line_bytes: 40, max_event_bytes: 90 };
            let whole = Parser::parse_all(limits, &input);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
            points.sort_unstable();
            let mut parser = Parser::new(limits);
            let mut items = Vec::new();
            let mut start = 0;
            for point in points.into_iter().chain([input.len()]) {
                parser.feed(&input[start..point], &mut |i| items.push(i));
                start = point;
            }
            prop_assert_eq!(items, whole);
        }

        #[test]
        fn byte_at_a_time_equals_whole(input in stream_strategy()) {
            let whole = parse(&input);
            let mut parser = Parser::default();
            let mut items = Vec::new();
            for byte in &input {
                parser.feed(std::slice::from_ref(byte), &mut |i| items.push(i));
            }
            prop_assert_eq!(items, whole);
        }

        #[test]
        fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&input);
        }
    }
}
