//! Reads `"seq":N` and `"t":N` out of an event frame without parsing the JSON: the load
//! generator shares the machine with the server, and every cycle it spends is one the
//! server does not get. The publisher pads with `x` only, so the keys cannot appear
//! inside a string.

/// The unsigned integer right after `key` (e.g. `"seq":`), if any.
pub fn number_after(frame: &str, key: &str) -> Option<u64> {
    let start = frame.find(key)? + key.len();
    let digits = frame[start..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(20);
    let mut value: u64 = 0;
    let mut any = false;
    for digit in digits {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// `(seq, sent_at_micros)` of an event frame; `None` for any other frame. The keys may
/// be escaped: a Pusher event's `data` is a JSON string.
pub fn event(frame: &str) -> Option<(u64, u64)> {
    let plain = || {
        Some((
            number_after(frame, "\"seq\":")?,
            number_after(frame, "\"t\":")?,
        ))
    };
    let escaped = || {
        Some((
            number_after(frame, "\\\"seq\\\":")?,
            number_after(frame, "\\\"t\\\":")?,
        ))
    };
    plain().or_else(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_seq_and_time_in_an_envelope() {
        let frame = r#"{"id":42,"type":"bench","timestamp":"2026-01-01T00:00:00.000Z","data":{"seq":7,"t":1700000000123456,"pad":"xx"}}"#;
        assert_eq!(event(frame), Some((7, 1_700_000_000_123_456)));
    }

    #[test]
    fn finds_them_in_a_pusher_message() {
        let frame = r#"{"event":"bench","channel":"bench","data":"{\"seq\":7,\"t\":12,\"pad\":\"x\"}","id":3}"#;
        assert_eq!(event(frame), Some((7, 12)));
    }

    #[test]
    fn finds_them_in_a_bare_body() {
        assert_eq!(event(r#"{"seq":0,"t":5,"pad":""}"#), Some((0, 5)));
    }

    #[test]
    fn other_frames_are_not_events() {
        assert_eq!(
            event(r#"{"type":"welcome","connection_id":1,"last_id":0}"#),
            None
        );
        assert_eq!(event(r#"{"seq":,"t":1}"#), None);
        assert_eq!(event(r#"{"seq":99999999999999999999999,"t":1}"#), None);
    }
}
