//! What an event means, for any type and data: never a panic, counts within
//! their bound, texts trimmed for display.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssetray::protocol::feed::{interpret, AppEvent, MAX_NOTIFICATION_COUNT, MAX_TEXT_CHARS};
use ssetray::protocol::sse::SseEvent;

fuzz_target!(|input: (&str, &str)| {
    let (event_type, data) = input;
    // The types with a meaning, and any other.
    let event_type = match event_type.len() % 4 {
        0 => "login",
        1 => "notification",
        2 => "message",
        _ => event_type,
    };
    let event = SseEvent {
        event_type: event_type.into(),
        data: data.into(),
        last_event_id: "".into(),
        has_own_id: false,
    };
    match interpret(&event) {
        AppEvent::Notification { count } => assert!(count <= MAX_NOTIFICATION_COUNT),
        AppEvent::Message(message) => {
            assert!(message.text.chars().count() <= MAX_TEXT_CHARS + 1);
            if let Some(title) = message.title {
                assert!(title.chars().count() <= MAX_TEXT_CHARS + 1);
            }
        }
        AppEvent::Login(_) | AppEvent::ServerClosed => {}
    }
});
