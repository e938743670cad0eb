//! A projection's fields to JSON text and back through the browser's own
//! `JSON`: serde_json's `Value` serializer and deserializer would add about
//! 25 KB brotli to every page's first load (measured), for what `JSON.parse`
//! and `JSON.stringify` already do.

use leptos::wasm_bindgen::{JsCast, JsValue};
use serde_json::{Map, Number, Value};

/// The fields as JSON text.
pub(super) fn stringify(fields: &Map<String, Value>) -> Option<String> {
    let object = js_sys::Object::new();
    for (key, value) in fields {
        js_sys::Reflect::set(&object, &JsValue::from_str(key), &to_js(value)).ok()?;
    }
    js_sys::JSON::stringify(&object).ok()?.as_string()
}

/// Fields read back from [`stringify`]'s text; `None` if it is not an object.
pub(super) fn parse(text: &str) -> Option<Map<String, Value>> {
    match from_js(&js_sys::JSON::parse(text).ok()?) {
        Value::Object(fields) => Some(fields),
        _ => None,
    }
}

fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(flag) => JsValue::from_bool(*flag),
        Value::Number(number) => JsValue::from_f64(number.as_f64().unwrap_or_default()),
        Value::String(text) => JsValue::from_str(text),
        Value::Array(items) => items.iter().map(to_js).collect::<js_sys::Array>().into(),
        Value::Object(map) => {
            let object = js_sys::Object::new();
            for (key, value) in map {
                let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &to_js(value));
            }
            object.into()
        }
    }
}

fn from_js(value: &JsValue) -> Value {
    if let Some(flag) = value.as_bool() {
        Value::Bool(flag)
    } else if let Some(number) = value.as_f64() {
        // Whole numbers come back as integers, as serde_json reads them.
        if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
            Value::from(number as i64)
        } else {
            Number::from_f64(number).map_or(Value::Null, Value::Number)
        }
    } else if let Some(text) = value.as_string() {
        Value::String(text)
    } else if js_sys::Array::is_array(value) {
        js_sys::Array::from(value)
            .iter()
            .map(|item| from_js(&item))
            .collect()
    } else if value.is_object() {
        let mut map = Map::new();
        for entry in js_sys::Object::entries(value.unchecked_ref()).iter() {
            let pair = js_sys::Array::from(&entry);
            if let Some(key) = pair.get(0).as_string() {
                map.insert(key, from_js(&pair.get(1)));
            }
        }
        Value::Object(map)
    } else {
        Value::Null
    }
}
