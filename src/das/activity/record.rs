//! The record's grammar over the window: the top-level object, its ids, and the event list
//! read element by element, with the error precedence of a whole-document parse.

use std::borrow::Cow;

use super::reader::{Reader, Stop, KEEP_WINDOW, READ_SIZE, SPARE_WINDOW};
use super::{ActivityError, ReadError, ReadLimits, RecordInfo, Visit, INNER_RECORD_TYPE};
use crate::das::event::EventError;
use crate::das::event::RawEvent;
use crate::das::inflate::Source;
use crate::das::json::RawJson;

/// A string, number or bool rendered as text; `None` for null, `""`, arrays and objects.
pub(super) fn id_text(raw: &str) -> Option<String> {
    RawJson::borrowed(raw).text().map(Cow::into_owned)
}

/// The first error of each kind met, for the precedence of a whole-document parse.
#[derive(Default)]
pub(super) struct Found {
    pub(super) syntax: Option<String>,
    pub(super) wrong_type: Option<String>,
    pub(super) list: Option<ActivityError>,
    pub(super) not_object: Option<usize>,
}

/// What reading one record carries: its limits, the visitor of its events, and what it learned.
pub(super) struct State<'s, V: ?Sized> {
    pub(super) limits: ReadLimits,
    pub(super) visit: &'s mut V,
    pub(super) info: &'s mut RecordInfo,
    pub(super) found: &'s mut Found,
}

/// Reads a whole record from `src`, handing every event that is not a heartbeat to `visit`.
pub fn read_record<S: Source, V: Visit + ?Sized>(
    src: S,
    limits: ReadLimits,
    visit: &mut V,
) -> Result<RecordInfo, ReadError> {
    let mut r = Reader {
        src,
        // All zeros: no plaintext below `used` (0) to wipe.
        buf: SPARE_WINDOW.take(),
        pos: 0,
        end: 0,
        mark: 0,
        base: 0,
        checked: 0,
        used: 0,
        eof: false,
        max_window: limits.max_event_bytes.saturating_add(READ_SIZE),
        max_value: limits.max_event_bytes,
        not_utf8: None,
    };
    // A record that fits the window kept between records, and the window the record's limits
    // allow, is inflated in one call.
    r.whole(KEEP_WINDOW.min(r.max_window));
    let mut info = RecordInfo::default();
    let mut found = Found::default();
    let result = read_top(&mut r, &mut State { limits, visit, info: &mut info, found: &mut found });
    // The plaintext is wiped before the window is freed: all of it lies below `used` (beyond
    // it are the zeros the window grew with), so the volatile writes stop there.
    zeroize::Zeroize::zeroize(&mut r.buf[..r.used]);
    info.bytes = r.base + r.end as u64;
    if r.buf.len() <= KEEP_WINDOW {
        SPARE_WINDOW.set(std::mem::take(&mut r.buf));
    }
    match result {
        Err(Stop::Read(e)) => return Err(e),
        Err(Stop::TooLarge) => {
            return Err(ActivityError::EventTooLarge(info.elements, limits.max_event_bytes).into());
        }
        Err(Stop::Eof) => {
            found.syntax.get_or_insert_with(|| format!("Eof error at byte {}", info.bytes));
        }
        Ok(()) => {}
    }
    if let Some(at) = r.not_utf8 {
        return Err(ActivityError::NotUtf8(at).into());
    }
    let error = if let Some(s) = found.syntax {
        ActivityError::NotJson(s)
    } else if let Some(t) = found.wrong_type {
        ActivityError::WrongType(t)
    } else if let Some(e) = found.list {
        e
    } else if info.elements > limits.max_events {
        ActivityError::TooManyEvents(limits.max_events)
    } else if let Some(i) = found.not_object {
        ActivityError::EventNotObject(i)
    } else {
        return Ok(info);
    };
    Err(error.into())
}

/// Records a syntax error at the reader's position and reads on to the end.
pub(super) fn syntax<S: Source>(r: &mut Reader<S>, found: &mut Found, what: &str) -> Result<(), Stop> {
    found.syntax.get_or_insert_with(|| format!("Syntax error at byte {}: {what}", r.offset()));
    r.drain()
}

pub(super) fn read_top<S: Source, V: Visit + ?Sized>(r: &mut Reader<S>, st: &mut State<'_, V>) -> Result<(), Stop> {
    if r.skip_ws()? != Some(b'{') {
        return syntax(r, st.found, "expected an object");
    }
    r.pos += 1;
    let (mut seen_type, mut seen_cluster, mut seen_instance, mut seen_list) = (false, false, false, false);
    let mut first = true;
    loop {
        match r.skip_ws()? {
            Some(b'}') if first => {
                r.pos += 1;
                break;
            }
            Some(b'"') => {}
            _ => return syntax(r, st.found, "expected a field name"),
        }
        let len = r.scan_value()?;
        let Some(name) = r.text(len).and_then(|t| serde_json::from_str::<String>(t).ok()) else {
            return syntax(r, st.found, "bad field name");
        };
        r.consume(len);
        if r.skip_ws()? != Some(b':') {
            return syntax(r, st.found, "expected ':'");
        }
        r.pos += 1;
        r.skip_ws()?;
        let seen = match name.as_str() {
            "type" => &mut seen_type,
            "clusterId" => &mut seen_cluster,
            "instanceId" => &mut seen_instance,
            "databaseActivityEventList" => &mut seen_list,
            _ => {
                // Any other field: only its syntax matters.
                let len = r.scan_value()?;
                let ok = r.text(len).is_some_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
                if !ok {
                    return syntax(r, st.found, "bad value");
                }
                r.consume(len);
                first = false;
                if !next_member(r, st.found)? {
                    break;
                }
                continue;
            }
        };
        if std::mem::replace(seen, true) {
            return syntax(r, st.found, "duplicate field");
        }
        if name == "databaseActivityEventList" {
            st.visit.begin(&st.info.ids);
            if !read_list(r, st)? {
                return Ok(());
            }
        } else {
            let len = r.scan_value()?;
            let Some(text) = r.text(len).filter(|t| serde_json::from_str::<serde_json::Value>(t).is_ok()) else {
                return syntax(r, st.found, "bad value");
            };
            let text = text.to_owned();
            r.consume(len);
            match name.as_str() {
                "type" => {
                    let t = RawJson::borrowed(&text).str_value().map(Cow::into_owned);
                    if let Some(t) = t.filter(|t| t != INNER_RECORD_TYPE) {
                        st.found.wrong_type = Some(t.chars().take(64).collect());
                    }
                }
                "clusterId" => st.info.ids.cluster_id = id_text(&text),
                _ => st.info.ids.instance_id = id_text(&text),
            }
            if name != "type" && seen_list {
                st.info.ids_after_list = true;
            }
        }
        first = false;
        if !next_member(r, st.found)? {
            break;
        }
    }
    if !seen_list {
        st.found.list.get_or_insert(ActivityError::MissingEventList);
    }
    if r.skip_ws()?.is_some() {
        return syntax(r, st.found, "trailing characters");
    }
    Ok(())
}

/// After a member: true at `,`, false at `}` (syntax errors recorded, the rest drained).
pub(super) fn next_member<S: Source>(r: &mut Reader<S>, found: &mut Found) -> Result<bool, Stop> {
    match r.skip_ws()? {
        Some(b',') => {
            r.pos += 1;
            Ok(true)
        }
        Some(b'}') => {
            r.pos += 1;
            Ok(false)
        }
        _ => {
            syntax(r, found, "expected ',' or '}'")?;
            Ok(false)
        }
    }
}

/// Reads the list's value; false when a syntax error ended the read.
pub(super) fn read_list<S: Source, V: Visit + ?Sized>(r: &mut Reader<S>, st: &mut State<'_, V>) -> Result<bool, Stop> {
    match r.peek()? {
        Some(b'[') => {}
        Some(b'"') => return read_list_in_string(r, st),
        _ => {
            let len = r.scan_value()?;
            let Some(text) = r.text(len).filter(|t| serde_json::from_str::<serde_json::Value>(t).is_ok()) else {
                syntax(r, st.found, "bad value")?;
                return Ok(false);
            };
            let error = if text == "null" { ActivityError::MissingEventList } else { ActivityError::EventListNotArray };
            st.found.list.get_or_insert(error);
            r.consume(len);
            return Ok(true);
        }
    }
    r.pos += 1;
    let mut sending = true;
    if r.skip_ws()? == Some(b']') {
        r.pos += 1;
        return Ok(true);
    }
    loop {
        if st.visit.aborted() {
            return Err(Stop::Read(ReadError::Stopped));
        }
        r.skip_ws()?;
        // Most events lie whole in the window: read in one pass, straight from it.
        let offered = match r.event_in_window() {
            Some((event, len)) => {
                st.info.elements += 1;
                offer(event, st, &mut sending);
                Some(len)
            }
            None => None,
        };
        match offered {
            Some(len) => r.consume(len),
            None if !read_element(r, st, &mut sending)? => return Ok(false),
            None => {}
        }
        match r.skip_ws()? {
            Some(b',') => r.pos += 1,
            Some(b']') => {
                r.pos += 1;
                return Ok(true);
            }
            _ => {
                syntax(r, st.found, "expected ',' or ']'")?;
                return Ok(false);
            }
        }
    }
}

/// One element of the list, not read whole from the window: its extent st.found first (reading
/// more as needed, within `max_event_bytes`), then parsed. False once the record is known
/// unreadable.
pub(super) fn read_element<S: Source, V: Visit + ?Sized>(
    r: &mut Reader<S>,
    st: &mut State<'_, V>,
    sending: &mut bool,
) -> Result<bool, Stop> {
    let len = r.scan_value()?;
    let index = st.info.elements;
    st.info.elements += 1;
    let Some(text) = r.text(len) else {
        // Not UTF-8: already recorded by the reader; nothing more to learn.
        r.drain()?;
        return Ok(false);
    };
    match RawEvent::parse(text).map(|event| offer(event, st, sending)) {
        Ok(()) => {}
        Err(EventError::NotObject) => {
            if serde_json::from_str::<serde_json::Value>(text).is_err() {
                syntax(r, st.found, "bad value")?;
                return Ok(false);
            }
            st.found.not_object.get_or_insert(index);
        }
        Err(EventError::NotJson(why)) => {
            syntax(r, st.found, &why)?;
            return Ok(false);
        }
    }
    r.consume(len);
    Ok(true)
}

/// A parsed element: a heartbeat is counted, an event is handed to `visit` while the record may
/// still be sent (within `max_events`, every element so far an object, the record's type right).
pub(super) fn offer<V: Visit + ?Sized>(event: RawEvent<'_>, st: &mut State<'_, V>, sending: &mut bool) {
    if event.is_heartbeat() {
        st.info.heartbeats += 1;
    } else {
        *sending = *sending
            && st.info.elements <= st.limits.max_events
            && st.found.not_object.is_none()
            && st.found.wrong_type.is_none()
            && st.visit.event(event);
    }
}

/// The user guide's table calls the list a string: a JSON-encoded list is read too. Its text
/// must be one JSON list (anything else is "not a list", as before).
pub(super) fn read_list_in_string<S: Source, V: Visit + ?Sized>(
    r: &mut Reader<S>,
    st: &mut State<'_, V>,
) -> Result<bool, Stop> {
    let len = r.scan_value()?;
    let Some(inner) = r.text(len).and_then(|t| serde_json::from_str::<String>(t).ok()) else {
        syntax(r, st.found, "bad string")?;
        return Ok(false);
    };
    r.consume(len);
    let Ok(serde_json::Value::Array(list)) = serde_json::from_str::<serde_json::Value>(&inner) else {
        st.found.list.get_or_insert(ActivityError::EventListNotArray);
        return Ok(true);
    };
    let mut sending = true;
    for item in list {
        let index = st.info.elements;
        st.info.elements += 1;
        if !item.is_object() {
            st.found.not_object.get_or_insert(index);
            continue;
        }
        // The item's canonical text reads back to the same fields.
        let text = item.to_string();
        let Ok(event) = RawEvent::parse(&text) else { continue };
        if event.is_heartbeat() {
            st.info.heartbeats += 1;
        } else {
            sending = sending
                && st.info.elements <= st.limits.max_events
                && st.found.not_object.is_none()
                && st.visit.event(event);
        }
    }
    Ok(true)
}
