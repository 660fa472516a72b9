use super::*;

#[test]
fn tolerant_fields_sorted_unique_and_borrowed() {
    let text = r#"{"type":"record","pid":"123","sessionId":42,"exitCode":"","rowCount":null,
        "newField":[1, 2],"pid":"124","na\u006de":"x"}"#;
    let e = RawEvent::parse(text).unwrap();
    let names: Vec<&str> = e.fields().iter().map(|f| f.name.as_ref()).collect();
    assert_eq!(names, ["exitCode", "name", "newField", "pid", "rowCount", "sessionId", "type"]);
    assert_eq!(e.integer("pid"), Some(124), "the last of a duplicated name wins");
    assert_eq!(e.text("sessionId").as_deref(), Some("42"));
    assert_eq!(e.text("exitCode"), None);
    assert_eq!(e.integer("rowCount"), None);
    assert!(matches!(e.get("type").unwrap().0, Cow::Borrowed(_)));
    let mut out = Vec::new();
    e.write_canonical(&mut out);
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(out, serde_json::to_vec(&v).unwrap());
    assert!(!e.is_heartbeat());
    assert!(RawEvent::parse(r#"{"type":"HeartBeat"}"#).unwrap().is_heartbeat());
}

#[test]
fn events_of_one_shape_are_read_alike() {
    // The second and third events have the names of the first (the order is remembered);
    // the fourth escapes a name and the fifth drops one: both are sorted afresh.
    let texts = [
        r#"{"z":1,"a":2,"type":3,"a":4}"#,
        r#"{"z":"x","a":[],"type":null,"a":"last"}"#,
        r#"{"z":5,"a":6,"type":7,"a":8}"#,
        r#"{"z":5,"\u0061":6,"type":7,"a":8}"#,
        r#"{"z":5,"a":6,"type":7}"#,
    ];
    for text in texts {
        let e = RawEvent::parse(text).unwrap();
        let mut out = Vec::new();
        e.write_canonical(&mut out);
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), v.to_string(), "{text}");
        for name in ["z", "a", "type"] {
            // Through the index of known names too ("type" is one).
            assert_eq!(e.get(name).map(|v| v.as_str().to_owned()), v.get(name).map(|v| v.to_string()), "{text}");
        }
    }
}

#[test]
fn what_is_not_an_event() {
    assert_eq!(RawEvent::parse("[1]").unwrap_err(), EventError::NotObject);
    assert!(matches!(RawEvent::parse(r#"{"a":}"#), Err(EventError::NotJson(_))));
    assert!(matches!(RawEvent::parse(r#"{"a":"\ud800"}"#), Err(EventError::NotJson(_))));
    assert!(matches!(RawEvent::parse(r#"{"a":1} x"#), Err(EventError::NotJson(_))));
    assert!(matches!(RawEvent::parse(r#"{"\ud800":1}"#), Err(EventError::NotJson(_))));
}

#[test]
fn marks_and_redaction() {
    let mut e = RawEvent::parse(r#"{"a":1,"b":"x","c":true}"#).unwrap();
    e.mark("b", true);
    assert_eq!(e.unplaced().map(|f| f.name.as_ref()).collect::<Vec<_>>(), ["a", "c"]);
    assert!(e.set("b", RawJson::string("y\n")));
    assert!(!e.set("zz", RawJson::string("y")));
    assert_eq!(e.text("b").as_deref(), Some("y\n"));
}

#[test]
fn pairs_copied_whole_only_where_the_text_is_canonical() {
    // Spaces around a colon, an escaped name, a value not in canonical form, numbers: each
    // written as serde_json writes the map, whatever of it is copied as the text holds it.
    let texts = [
        r#"{"b" : 1 ,"a":"x\u0041","c":1.50,"d":"plain","e":-0,"f":{"y":1, "x":2}}"#,
        r#"{"d":"plain","\u0062":[1,2],"a" :null,"c":"\/"}"#,
        r#"{ "a":"é","b":true }"#,
    ];
    for text in texts {
        let e = RawEvent::parse(text).unwrap();
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        e.write_canonical(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), v.to_string(), "{text}");
        e.mark("a", true);
        let mut out = Vec::new();
        e.write_unplaced(&mut out);
        let mut rest = v.as_object().unwrap().clone();
        rest.remove("a");
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::Value::Object(rest).to_string(), "{text}");
    }
    // A value set after the parse is written, not the text's.
    let mut e = RawEvent::parse(r#"{"a":"secret","b":1}"#).unwrap();
    assert!(e.canonical_pair(&e.fields()[0]).is_some());
    assert!(e.set("a", RawJson::string("?")));
    assert!(e.canonical_pair(&e.fields()[0]).is_none());
    let mut out = Vec::new();
    e.write_canonical(&mut out);
    assert_eq!(out, br#"{"a":"?","b":1}"#);
}

#[test]
fn the_fields_vector_is_reused_and_bounded() {
    let first = RawEvent::parse(r#"{"a":1,"b":2}"#).unwrap();
    let at = first.fields().as_ptr() as usize;
    drop(first);
    let second = RawEvent::parse(r#"{"c":"x","d":null}"#).unwrap();
    assert_eq!(second.fields().as_ptr() as usize, at, "the next event takes the vector back");
    assert_eq!(second.get("c").map(|v| v.as_str()), Some("\"x\""));
    drop(second);
    let many: String = format!("{{{}}}", (0..2000).map(|i| format!("\"f{i}\":{i}")).collect::<Vec<_>>().join(","));
    drop(RawEvent::parse(&many).unwrap());
    assert!(SPARE_FIELDS.take().capacity() <= SPARE_MAX_FIELDS, "a vector past the bound is freed");
}
