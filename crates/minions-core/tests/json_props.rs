//! Property tests: JSON extraction never panics, and finds JSON that is there.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use minions_core::json::{extract_as, extract_json};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Prose that cannot itself contain JSON brackets or quotes.
fn prose() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,:;!?\n\u{e9}\u{4e2d}\u{1F600}-]{0,80}"
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = extract_json(&text);
        let _ = extract_as::<std::collections::HashMap<String, Value>>(&text);
    }

    #[test]
    fn never_panics_on_json_like_noise(text in r#"[{}\[\]",:\\ a-z0-9\u{201C}\u{201D}`<>/]{0,200}"#) {
        let _ = extract_json(&text);
    }

    #[test]
    fn finds_an_object_wrapped_in_prose(
        before in prose(),
        after in prose(),
        fields in prop::collection::btree_map("[a-z]{1,6}", json_value(), 1..5),
        fenced in any::<bool>(),
        pretty in any::<bool>(),
    ) {
        let object = Value::Object(fields.into_iter().collect());
        let body = if pretty {
            serde_json::to_string_pretty(&object).unwrap()
        } else {
            serde_json::to_string(&object).unwrap()
        };
        let text = if fenced {
            format!("{before}\n```json\n{body}\n```\n{after}")
        } else {
            format!("{before} {body} {after}")
        };
        prop_assert_eq!(extract_json(&text).unwrap(), object);
    }

    #[test]
    fn a_cut_off_object_is_never_mistaken_for_a_whole_one(
        fields in prop::collection::btree_map("[a-z]{1,6}", json_value(), 2..5),
        cut_fraction in 0.1f64..0.9,
    ) {
        let object = Value::Object(fields.into_iter().collect());
        let body = serde_json::to_string(&object).unwrap();
        let mut cut = ((body.len() as f64) * cut_fraction) as usize;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Ok(found) = extract_json(&body[..cut]) {
            prop_assert_ne!(found, object);
        }
    }
}
