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
//! buffer; only a line that straddles two reads is copied. Each value is
//! copied once, into the event, and checked as UTF-8 once: where a stream's
//! lines are short, the complete lines of a read are checked in one pass
//! (a check per value would cost more in setup than in checking); where
//! they are long, each value is checked on its own, right after its line's
//! end was found, while it is in cache. A value with invalid UTF-8 is
//! decoded with each invalid sequence as U+FFFD. Cutting at line endings is
//! safe because CR and LF never occur inside a UTF-8 sequence.
//!
//! Memory is bounded by [`Limits`]: an event whose data, type and id come to
//! more than `max_event_bytes` of decoded text is dropped, and so is a line
//! too long to carry a value of that size. The parser reports each dropped
//! event as [`Item::Dropped`] and the stream goes on. Without a limit the
//! standard would keep everything; these are the only places where this
//! parser deliberately differs from a browser.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// How large an event may grow before it is dropped. The server is
/// untrusted: without a bound, one endless line would take all memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest event kept, in bytes of decoded UTF-8 text (an invalid
    /// byte counts as the three bytes of its U+FFFD): its data (the `data`
    /// values joined with LF, as dispatched), its type (the `event` value;
    /// none counts 0, not the 7 of the default `message`) and the last event
    /// id it carries (its own or inherited from an earlier block), added
    /// together. A block that goes over is reported once, as
    /// [`Item::Dropped`], when it does, and nothing of it is dispatched at
    /// its blank line; an `id` alone over the limit is not taken as the
    /// last event id. Lines are limited to this plus the
    /// room of the longest field name (see [`Limits::max_line_bytes`]).
    pub max_event_bytes: usize,
}

/// One MiB: well above any real notification, well below trouble.
pub const DEFAULT_LIMIT_BYTES: usize = 1024 * 1024;

/// The longest field name kept with its colon and space, `event: `: a line
/// may be this much longer than the event limit, so that a value of the full
/// size fits on it.
const FIELD_NAME_ROOM: usize = b"event: ".len();

impl Limits {
    /// The longest line kept, without its line ending: a value of
    /// `max_event_bytes` after the longest field name, colon and space.
    /// Only a line that straddles reads is ever held in memory, and never
    /// more of it than this; a longer line cannot carry a value within the
    /// event limit, so it drops the event it belongs to. A comment that
    /// long is still a comment, an unknown field is ignored as it would be
    /// anyway, and so is a `retry` (where the standard would read a number
    /// padded with a MiB of zeros).
    pub fn max_line_bytes(self) -> usize {
        self.max_event_bytes.saturating_add(FIELD_NAME_ROOM)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
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
    /// An event went over [`Limits::max_event_bytes`] and was dropped; the
    /// stream goes on. Once per block, when its size is found out: a block
    /// is not dispatched after this, even if it carries no data (then what
    /// went over was its type or id).
    Dropped {
        limit: usize,
    },
}

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";
const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// A line over the line limit, skipped to its end: what its field name,
/// the first bytes, says is to be done once the end arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SkippedLine {
    /// A comment: still proof of life.
    Comment,
    /// A `data` or `event` value over the event limit: the event is dropped.
    EventField,
    /// An `id` over the event limit drops the event, unless it holds a NUL,
    /// which makes the standard ignore the field anyway.
    Id { has_nul: bool },
    /// An unknown field, ignored as the standard does, or `retry`: digits
    /// that many are either not a number or one padded with zeros, and
    /// either way not worth holding a line for.
    Ignored,
}

impl SkippedLine {
    /// `head`: the line's first bytes, at least 6 of them when the line has
    /// them; the longest field name that matters is 5 bytes before its colon.
    fn of(head: &[u8]) -> SkippedLine {
        if head.first() == Some(&b':') {
            SkippedLine::Comment
        } else if head.starts_with(b"data:") || head.starts_with(b"event:") {
            SkippedLine::EventField
        } else if head.starts_with(b"id:") {
            SkippedLine::Id { has_nul: false }
        } else {
            SkippedLine::Ignored
        }
    }

    fn saw(&mut self, bytes: &[u8]) {
        if let SkippedLine::Id { has_nul } = self {
            *has_nul = *has_nul || memchr::memchr(0, bytes).is_some();
        }
    }
}

/// The `event` field of the block being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TypeField {
    /// None, or an empty one: the event is a `message`.
    #[default]
    Unset,
    /// The same name as the last named event's: its allocation is shared.
    SameAsLast,
    /// Another name, held in `event_type`.
    Named,
}

/// The text of complete lines: `&str` when the read was checked as UTF-8 as
/// a whole, or bytes, each value then checked and decoded on its own, with
/// invalid sequences as U+FFFD. Lines and values are cut only at ASCII bytes
/// (CR, LF, colon, space), so a slice of valid text is valid text.
trait Text<'a>: Copy {
    fn bytes(self) -> &'a [u8];
    /// Bytes `start..end`, both at ASCII bytes or the ends.
    fn slice(self, start: usize, end: usize) -> Self;
    fn decode(self) -> Cow<'a, str>;
}

impl<'a> Text<'a> for &'a str {
    fn bytes(self) -> &'a [u8] {
        self.as_bytes()
    }
    fn slice(self, start: usize, end: usize) -> Self {
        &self[start..end]
    }
    fn decode(self) -> Cow<'a, str> {
        Cow::Borrowed(self)
    }
}

impl<'a> Text<'a> for &'a [u8] {
    fn bytes(self) -> &'a [u8] {
        self
    }
    fn slice(self, start: usize, end: usize) -> Self {
        &self[start..end]
    }
    fn decode(self) -> Cow<'a, str> {
        // The vectorised check pays for its setup from about 64 bytes on.
        let valid = if self.len() < 64 {
            std::str::from_utf8(self).ok()
        } else {
            simdutf8::basic::from_utf8(self).ok()
        };
        match valid {
            Some(text) => Cow::Borrowed(text),
            None => String::from_utf8_lossy(self),
        }
    }
}

/// A straddling line's buffer larger than this is not kept for the next one.
const KEPT_LINE_BUFFER_BYTES: usize = 64 * 1024;

/// Lines shorter than this on average, in the last read, make the parser
/// check the next read's lines as UTF-8 in one pass.
const SHORT_LINE_BYTES: usize = 128;

/// The parser's state between reads.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    /// Bytes of a line that started in an earlier read.
    partial_line: Vec<u8>,
    /// The current line went over the line limit: its bytes are not kept,
    /// only what to do at its end.
    skipped_line: Option<SkippedLine>,
    /// The previous read ended with CR: an LF at the start of the next read
    /// belongs to that line ending.
    after_cr: bool,
    /// How many bytes of a leading BOM have been matched; `None` once the
    /// start of the stream is behind us.
    bom_matched: Option<usize>,
    /// The standard's data buffer, without the LF it appends after the
    /// last line (which dispatch would strip): a separating LF is added
    /// before each line but the first.
    data: String,
    /// Whether the block had a `data` field (the data may still be empty).
    has_data: bool,
    type_field: TypeField,
    /// The event type buffer when `type_field` is `Named`.
    event_type: String,
    /// The standard's "last event ID buffer": set by `id` fields.
    id_buffer: String,
    /// The event source's "last event ID string": the buffer as of the last
    /// blank line. Only this survives a reconnect, so an id inside an event
    /// cut off by the end of a stream is not sent as `Last-Event-ID`.
    last_event_id: Arc<str>,
    /// The last type named by an `event` field, to share its allocation.
    last_type: Arc<str>,
    /// `message`, the type of an event that names none.
    message_type: Arc<str>,
    has_own_id: bool,
    /// The current event went over the limit: discard it at its blank line.
    skipping_event: bool,
    /// The last read's lines were short: check the next one's at once.
    short_lines: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(Limits::default())
    }
}

impl Parser {
    pub fn new(limits: Limits) -> Self {
        let message_type: Arc<str> = Arc::from("message");
        Parser {
            limits,
            partial_line: Vec::new(),
            skipped_line: None,
            after_cr: false,
            bom_matched: Some(0),
            data: String::new(),
            has_data: false,
            type_field: TypeField::Unset,
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: Arc::from(""),
            last_type: message_type.clone(),
            message_type,
            has_own_id: false,
            skipping_event: false,
            short_lines: true,
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
            if bytes[0] == LF {
                bytes = &bytes[1..];
            }
        }
        // First the end of a line begun in an earlier read.
        if !self.partial_line.is_empty() || self.skipped_line.is_some() {
            let Some(end) = memchr::memchr2(CR, LF, bytes) else {
                self.append_partial(bytes);
                return;
            };
            self.append_partial(&bytes[..end]);
            self.end_partial_line(emit);
            let ending = bytes[end];
            bytes = &bytes[end + 1..];
            if ending == CR {
                match bytes.first() {
                    Some(&LF) => bytes = &bytes[1..],
                    Some(_) => {}
                    None => {
                        self.after_cr = true;
                        return;
                    }
                }
            }
        }
        // Then the complete lines, straight out of the read, and the start
        // of the line it ends inside.
        let complete = memchr::memrchr2(CR, LF, bytes).map_or(0, |last| last + 1);
        let (lines, rest) = bytes.split_at(complete);
        if !lines.is_empty() {
            // Only the cost differs: either way a value is checked once.
            let count = if self.short_lines {
                match simdutf8::basic::from_utf8(lines) {
                    Ok(text) => self.parse_lines(text, emit),
                    Err(_) => self.parse_lines(lines, emit),
                }
            } else {
                self.parse_lines(lines, emit)
            };
            self.short_lines = lines.len() < SHORT_LINE_BYTES * count;
            self.after_cr = rest.is_empty() && lines.last() == Some(&CR);
        }
        if !rest.is_empty() {
            self.append_partial(rest);
        }
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

    /// Lines that each end with CR, LF or CRLF (a CRLF's LF may be left for
    /// the next read). Returns how many there were.
    fn parse_lines<'a, T: Text<'a>>(&mut self, text: T, emit: &mut impl FnMut(Item)) -> usize {
        let bytes = text.bytes();
        let mut count = 0;
        let mut start = 0;
        while start < bytes.len() {
            let end = if bytes[start] == LF || bytes[start] == CR {
                // A blank line: no search needed.
                start
            } else {
                memchr::memchr2(CR, LF, &bytes[start..]).map_or(bytes.len(), |at| start + at)
            };
            self.process_line(text, start, end, emit);
            count += 1;
            start = end + 1;
            if bytes.get(end) == Some(&CR) && bytes.get(start) == Some(&LF) {
                start += 1;
            }
        }
        count
    }

    /// Keep the bytes of a line that goes on in the next read, up to the line
    /// limit; past it, only what to do at its end.
    fn append_partial(&mut self, bytes: &[u8]) {
        if let Some(skipped) = &mut self.skipped_line {
            skipped.saw(bytes);
            return;
        }
        if self.partial_line.len() + bytes.len() <= self.limits.max_line_bytes() {
            self.partial_line.extend_from_slice(bytes);
            return;
        }
        let mut head = [0; 6];
        let from_partial = self.partial_line.len().min(head.len());
        head[..from_partial].copy_from_slice(&self.partial_line[..from_partial]);
        let from_bytes = (head.len() - from_partial).min(bytes.len());
        head[from_partial..from_partial + from_bytes].copy_from_slice(&bytes[..from_bytes]);
        let mut skipped = SkippedLine::of(&head[..from_partial + from_bytes]);
        skipped.saw(&self.partial_line);
        skipped.saw(bytes);
        self.skipped_line = Some(skipped);
        self.partial_line = Vec::new();
    }

    fn end_partial_line(&mut self, emit: &mut impl FnMut(Item)) {
        if let Some(skipped) = self.skipped_line.take() {
            self.end_skipped_line(skipped, emit);
            return;
        }
        let line = std::mem::take(&mut self.partial_line);
        match simdutf8::basic::from_utf8(&line) {
            Ok(text) => self.process_line(text, 0, text.len(), emit),
            Err(_) => self.process_line(&line[..], 0, line.len(), emit),
        }
        // Keep the allocation for the next straddling line, unless a long
        // line made it large.
        if line.capacity() <= KEPT_LINE_BUFFER_BYTES {
            self.partial_line = line;
            self.partial_line.clear();
        }
    }

    fn end_skipped_line(&mut self, skipped: SkippedLine, emit: &mut impl FnMut(Item)) {
        match skipped {
            SkippedLine::Comment => emit(Item::Comment),
            SkippedLine::EventField | SkippedLine::Id { has_nul: false } => self.drop_event(emit),
            SkippedLine::Id { has_nul: true } | SkippedLine::Ignored => {}
        }
    }

    /// The line `start..end` of `text` (only the value is sliced out as
    /// text, which spares checking the line's ends as character boundaries).
    fn process_line<'a, T: Text<'a>>(
        &mut self,
        text: T,
        start: usize,
        end: usize,
        emit: &mut impl FnMut(Item),
    ) {
        let bytes = &text.bytes()[start..end];
        if bytes.len() > self.limits.max_line_bytes() {
            // As if it had straddled reads, so that any split gives the same.
            let mut skipped = SkippedLine::of(&bytes[..6.min(bytes.len())]);
            skipped.saw(bytes);
            self.end_skipped_line(skipped, emit);
            return;
        }
        let Some(&first) = bytes.first() else {
            self.dispatch(emit);
            return;
        };
        if first == b':' {
            emit(Item::Comment);
            return;
        }
        // Most lines are data; otherwise the colon ends a field name of a
        // few bytes, which a plain scan finds sooner than a vectorised search
        // pays for its setup.
        let (field, mut value_start) = if bytes.starts_with(b"data:") {
            (&bytes[..4], 5)
        } else {
            match bytes.iter().position(|&byte| byte == b':') {
                Some(colon) => (&bytes[..colon], colon + 1),
                None => (bytes, bytes.len()),
            }
        };
        if bytes.get(value_start) == Some(&b' ') {
            value_start += 1;
        }
        let value = text.slice(start + value_start, end);
        match field {
            b"data" => self.append_data(value, emit),
            b"event" => self.set_type(value, emit),
            b"id" => self.set_id(value, emit),
            b"retry" => {
                let digits = value.bytes();
                if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                    // All digits, so this only fails on overflow: ignore then.
                    if let Some(ms) = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|digits| digits.parse::<u64>().ok())
                    {
                        emit(Item::Retry(Duration::from_millis(ms)));
                    }
                }
            }
            _ => {}
        }
    }

    fn type_bytes(&self) -> usize {
        match self.type_field {
            TypeField::Unset => 0,
            TypeField::SameAsLast => self.last_type.len(),
            TypeField::Named => self.event_type.len(),
        }
    }

    /// The block's size as the limit counts it.
    fn event_bytes(&self) -> usize {
        self.data.len() + self.type_bytes() + self.id_buffer.len()
    }

    fn append_data<'a, T: Text<'a>>(&mut self, value: T, emit: &mut impl FnMut(Item)) {
        if self.skipping_event {
            return;
        }
        let separator = usize::from(self.has_data);
        // Decoding never shrinks bytes: a value over the limit is not decoded.
        let fits = |parser: &Self, len: usize| {
            parser.event_bytes() + separator + len <= parser.limits.max_event_bytes
        };
        if !fits(self, value.bytes().len()) {
            self.drop_event(emit);
            return;
        }
        // Checked again once decoded: an invalid byte becomes a three-byte
        // U+FFFD, so the text can outgrow the bytes that made it.
        let text = value.decode();
        if !fits(self, text.len()) {
            self.drop_event(emit);
            return;
        }
        if self.has_data {
            self.data.push('\n');
            self.data.push_str(&text);
        } else {
            // The first line: the data buffer is empty (given away with the
            // last event), so this makes it in one allocation of the size.
            self.data = text.into_owned();
            self.has_data = true;
        }
    }

    fn set_type<'a, T: Text<'a>>(&mut self, value: T, emit: &mut impl FnMut(Item)) {
        if self.skipping_event {
            return;
        }
        let raw = value.bytes();
        let others = self.event_bytes() - self.type_bytes();
        if others + raw.len() > self.limits.max_event_bytes {
            self.drop_event(emit);
            return;
        }
        if raw.is_empty() {
            self.type_field = TypeField::Unset;
        } else if raw == self.last_type.as_bytes() {
            // Equal to valid text, so valid: no decoding, no copy.
            self.type_field = TypeField::SameAsLast;
        } else {
            let text = value.decode();
            if others + text.len() > self.limits.max_event_bytes {
                self.drop_event(emit);
                return;
            }
            self.event_type.clear();
            self.event_type.push_str(&text);
            self.type_field = TypeField::Named;
        }
    }

    fn set_id<'a, T: Text<'a>>(&mut self, value: T, emit: &mut impl FnMut(Item)) {
        let raw = value.bytes();
        // An id with NUL is ignored.
        if raw.contains(&0) {
            return;
        }
        let max = self.limits.max_event_bytes;
        if raw.len() > max {
            self.drop_event(emit);
            return;
        }
        let text = value.decode();
        if text.len() > max {
            // Not taken as the last event id either: it could never be sent
            // back within the limit.
            self.drop_event(emit);
            return;
        }
        self.id_buffer.clear();
        self.id_buffer.push_str(&text);
        self.has_own_id = true;
        if !self.skipping_event && self.event_bytes() > max {
            self.drop_event(emit);
        }
    }

    /// The block went over the limit: it is discarded at its blank line,
    /// and reported now, once.
    fn drop_event(&mut self, emit: &mut impl FnMut(Item)) {
        if self.skipping_event {
            return;
        }
        self.skipping_event = true;
        self.data = String::new();
        self.has_data = false;
        self.event_type = String::new();
        self.type_field = TypeField::Unset;
        emit(Item::Dropped {
            limit: self.limits.max_event_bytes,
        });
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(Item)) {
        // Only an `id` field changes the buffer (or the methods that set
        // both): without one there is nothing to compare.
        let has_own_id = std::mem::take(&mut self.has_own_id);
        if has_own_id && *self.last_event_id != *self.id_buffer {
            self.last_event_id = Arc::from(self.id_buffer.as_str());
        }
        let type_field = std::mem::take(&mut self.type_field);
        let has_data = std::mem::take(&mut self.has_data);
        if std::mem::take(&mut self.skipping_event) || !has_data {
            self.data.clear();
            return;
        }
        let event_type = match type_field {
            TypeField::Unset => self.message_type.clone(),
            TypeField::SameAsLast => self.last_type.clone(),
            TypeField::Named => {
                self.last_type = Arc::from(self.event_type.as_str());
                self.last_type.clone()
            }
        };
        emit(Item::Event(SseEvent {
            event_type,
            data: std::mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
            has_own_id,
        }));
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

    fn dropped(limit: usize) -> Item {
        Item::Dropped { limit }
    }

    /// Items of `input` fed whole, then fed in reads of every size from 1
    /// to 8 bytes: the same, or the assertion says which.
    fn parse_every_way(limits: Limits, input: &[u8]) -> Vec<Item> {
        let whole = Parser::parse_all(limits, input);
        for size in 1..=8 {
            let mut parser = Parser::new(limits);
            let mut items = Vec::new();
            for chunk in input.chunks(size) {
                parser.feed(chunk, &mut |i| items.push(i));
                assert!(
                    parser.partial_line.len() <= limits.max_line_bytes(),
                    "memory stays bounded"
                );
            }
            assert_eq!(items, whole, "reads of {size} bytes");
        }
        whole
    }

    #[test]
    fn over_long_line_drops_its_event_and_the_stream_goes_on() {
        let limits = Limits { max_event_bytes: 9 };
        assert_eq!(limits.max_line_bytes(), 16);
        let mut input = b"data: before\n\n".to_vec();
        input.extend_from_slice(b"data: ");
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend_from_slice(b"\ndata: tail\n\ndata: after\n\n");
        assert_eq!(
            parse_every_way(limits, &input),
            vec![
                event("message", "before", ""),
                dropped(9),
                event("message", "after", ""),
            ]
        );
    }

    #[test]
    fn over_large_event_is_dropped_once_and_the_stream_goes_on() {
        let limits = Limits {
            max_event_bytes: 40,
        };
        let mut input = Vec::new();
        for _ in 0..10 {
            input.extend_from_slice(b"data: 0123456789\n");
        }
        input.extend_from_slice(b"\ndata: small\n\n");
        assert_eq!(
            parse_every_way(limits, &input),
            vec![dropped(40), event("message", "small", "")]
        );
    }

    #[test]
    fn invalid_bytes_cannot_grow_an_event_past_the_limit() {
        // Found by the fuzzer: 20 invalid bytes are within a 40-byte limit,
        // but decode to 20 three-byte U+FFFD, 60 bytes of text.
        let limits = Limits {
            max_event_bytes: 40,
        };
        let mut input = b"data: ".to_vec();
        input.extend_from_slice(&[0xff; 20]);
        input.extend_from_slice(b"\n\ndata: small\n\n");
        assert_eq!(
            parse_every_way(limits, &input),
            vec![dropped(40), event("message", "small", "")]
        );
        // At the limit, decoded, it is kept.
        let mut input = b"data: ".to_vec();
        input.extend_from_slice(&[0xff; 13]);
        input.extend_from_slice(b"\n\n");
        assert_eq!(
            parse_every_way(limits, &input),
            vec![event("message", &"\u{FFFD}".repeat(13), "")]
        );
        // The same for a type and an id: 14 U+FFFD are 42 bytes.
        for field in ["event", "id"] {
            let mut input = format!("{field}: ").into_bytes();
            input.extend_from_slice(&[0xff; 14]);
            input.extend_from_slice(b"\ndata: x\n\ndata: next\n\n");
            assert_eq!(
                parse_every_way(limits, &input),
                vec![dropped(40), event("message", "next", "")],
                "{field}"
            );
        }
    }

    #[test]
    fn default_limit_is_one_mebibyte_of_data() {
        // A value of exactly the limit is delivered, with or without the
        // space after the colon: the field name does not count.
        let big = "y".repeat(DEFAULT_LIMIT_BYTES);
        for colon in ["data:", "data: "] {
            let ok = format!("{colon}{big}\n\n");
            assert_eq!(parse(ok.as_bytes()), vec![event("message", &big, "")]);
        }
        // One byte over is dropped, and the stream goes on.
        let too_big = format!("data: {big}y\n\ndata: next\n\n");
        assert_eq!(
            parse(too_big.as_bytes()),
            vec![dropped(DEFAULT_LIMIT_BYTES), event("message", "next", "")]
        );
        // Lines joined with LF count as the data dispatched: the LF between
        // two lines counts, the one after the last does not.
        let half = "z".repeat(DEFAULT_LIMIT_BYTES / 2);
        let joined = format!("data: {half}\ndata: {}\n\n", &half[1..]);
        assert_eq!(
            parse(joined.as_bytes()),
            vec![event("message", &format!("{half}\n{}", &half[1..]), "")]
        );
        let joined = format!("data: {half}\ndata: {half}\n\n");
        assert_eq!(parse(joined.as_bytes()), vec![dropped(DEFAULT_LIMIT_BYTES)]);
    }

    #[test]
    fn the_type_and_the_id_count_with_the_data() {
        let limits = Limits {
            max_event_bytes: 64,
        };
        let name = "t".repeat(60);
        let id = "7".repeat(60);
        // 60 of type and 4 of data: exactly the limit.
        let input = format!("event: {name}\ndata: abcd\n\n");
        assert_eq!(
            parse_every_way(limits, input.as_bytes()),
            vec![event(&name, "abcd", "")]
        );
        // A huge type, before or after the data, drops its event; the next
        // one is delivered.
        for block in [
            format!("event: {name}\ndata: abcde\n\n"),
            format!("data: abcde\nevent: {name}\n\n"),
            format!("event: {}\ndata: x\n\n", "t".repeat(500)),
        ] {
            let input = format!("{block}data: next\n\n");
            assert_eq!(
                parse_every_way(limits, input.as_bytes()),
                vec![dropped(64), event("message", "next", "")],
                "{block}"
            );
        }
        // The same for an id; one that fits alone is still the last event
        // id, and is counted in the next events that carry it.
        let input =
            format!("data: abcde\nid: {id}\n\ndata: a\n\ndata: abcde\n\nid: 1\ndata: abcde\n\n");
        assert_eq!(
            parse_every_way(limits, input.as_bytes()),
            vec![
                dropped(64),
                event("message", "a", &id),
                dropped(64),
                own(event("message", "abcde", "1")),
            ]
        );
        // An id over the limit alone is not taken as the last event id.
        let input = format!("id: 1\n\nid: {}\ndata: a\n\ndata: b\n\n", "9".repeat(65));
        assert_eq!(
            parse_every_way(limits, input.as_bytes()),
            vec![dropped(64), event("message", "b", "1")]
        );
    }

    #[test]
    fn over_long_lines_of_no_event_field_leave_the_event_alone() {
        let limits = Limits { max_event_bytes: 9 };
        let long = "0".repeat(100);
        let input =
            format!(": {long}\nfoo: {long}\n{long}\nretry: {long}15\nid: {long}\0\ndata: kept\n\n");
        assert_eq!(
            parse_every_way(limits, input.as_bytes()),
            vec![Item::Comment, event("message", "kept", "")]
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
    fn long_and_short_lines_give_the_same_events_however_they_are_checked() {
        // Reads of long lines switch the parser to checking each value on
        // its own, reads of short lines back to checking the read at once:
        // the events are the same either way, invalid bytes included.
        let long = format!("{}\u{e9}", "x".repeat(600));
        let mut input = Vec::new();
        for round in 0..3 {
            for n in 0..12 {
                input.extend_from_slice(
                    format!("id: {round}{n}\ndata: {long}\ndata: {n}\n\n").as_bytes(),
                );
            }
            input.extend_from_slice(b"data: a \xFF in a long stream\n\n");
            for n in 0..40 {
                input.extend_from_slice(format!("event: short\ndata: {n}\n\n").as_bytes());
            }
        }
        let whole = parse(&input);
        assert_eq!(whole.len(), 3 * (12 + 1 + 40));
        for read in [97, 256, 1500, 4096] {
            let mut parser = Parser::default();
            let mut items = Vec::new();
            let mut checked_per_value = false;
            for chunk in input.chunks(read) {
                parser.feed(chunk, &mut |i| items.push(i));
                checked_per_value |= !parser.short_lines;
            }
            assert_eq!(items, whole, "reads of {read} bytes");
            // Reads shorter than a long line hold only its short neighbours.
            assert_eq!(checked_per_value, read >= 1500, "reads of {read} bytes");
        }
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
            Just(b"event: a-long-type-name-of-forty-bytes-exactly\n".to_vec()),
            Just(b"id: an-id-of-some-thirty-bytes-or-so\n".to_vec()),
            Just(b"id: a-long-id-with-a-NUL-\x00-that-is-ignored-anyway\n".to_vec()),
            Just(b": a comment that goes on and on and on and on and on\n".to_vec()),
            Just(b"retry: 0000000000000000000000000000000000000000000000000000002000\n".to_vec()),
            Just([&b"data: "[..], &[b'y'; 150], "\u{e9}\r\n".as_bytes()].concat()),
            Just([&b"data: "[..], &[b'z'; 200], b"\xC3\n"].concat()),
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
            max_event_bytes in 0usize..400,
        ) {
            // Small limits so that the size rules are exercised as well.
            let limits = Limits { max_event_bytes };
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
