//! Jackson's coercions, in one place: the stock clients were written against Spring, whose JSON
//! reader turns a numeric string into a number (`"id":"123"`, `"type":"1"`, `"price":"12.5"`)
//! and a number into a string (the mini-program's `"label":1`). [`from_value`] reads a parsed
//! JSON value into any `Deserialize` type with those two coercions and nothing else: a string
//! that is not a number, an array, an object, a boolean or a null where a number is expected
//! stays an error, and so does a fraction where an integer is expected (`1.5` for an id; Jackson
//! would truncate it, we refuse). Every other rule (unknown fields ignored, `Option` for absent
//! or null) is serde's own.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Number, Value};

/// Reads `value` into `T`, coercing numeric strings to numbers and numbers to strings.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    T::deserialize(Lenient(value))
}

/// Parses JSON text into a value, refusing an object that repeats a key (serde's derive would
/// refuse a repeated field; a plain `Value` would silently keep the last one).
pub fn parse(json: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = de.deserialize_any(NoRepeats)?;
    de.end()?;
    Ok(value)
}

/// Builds a `Value`, failing on a repeated key in any object.
struct NoRepeats;

impl<'de> DeserializeSeed<'de> for NoRepeats {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoRepeats {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(NoRepeats)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(NoRepeats)?;
            if fields.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
        }
        Ok(Value::Object(fields))
    }
}

/// A JSON value read with Jackson's scalar coercions (a `Deserializer`).
pub struct Lenient(Value);

/// The number a string spells, if it spells one: optional sign, digits, an optional fraction
/// (no exponent, no blanks, no `NaN`), as Jackson's `NumberInput` reads it.
fn number_in(s: &str) -> Option<Number> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((int, "")) => (int, "x"),
        Some(parts) => parts,
        None => (digits, ""),
    };
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !plain {
        return None;
    }
    if frac.is_empty() {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Number::from(i));
        }
        if let Ok(u) = s.parse::<u64>() {
            return Some(Number::from(u));
        }
    }
    s.parse::<f64>().ok().and_then(Number::from_f64)
}

impl Lenient {
    /// Wraps a parsed value.
    pub fn new(value: Value) -> Lenient {
        Lenient(value)
    }

    /// The value with a numeric string turned into its number, and an integral float (`1.0`)
    /// into that integer (for a number-typed target; serde refuses any other float there).
    fn numeric(self) -> Value {
        let value = match self.0 {
            Value::String(s) => match number_in(&s) {
                Some(n) => Value::Number(n),
                None => Value::String(s),
            },
            other => other,
        };
        match value {
            Value::Number(n) if n.is_f64() => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Value::Number(Number::from(f as i64))
                }
                _ => Value::Number(n),
            },
            other => other,
        }
    }

    /// The value with a number turned into its text (for a string-typed target).
    fn textual(self) -> Value {
        match self.0 {
            Value::Number(n) => Value::String(n.to_string()),
            other => other,
        }
    }
}

macro_rules! numeric {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.numeric().$method(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Fields::new(map)),
            scalar => scalar.deserialize_any(visitor),
        }
    }

    numeric!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
             deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
             deserialize_f32 deserialize_f64);

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.textual().deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.textual().deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool char bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// The elements of an array, each read leniently.
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Lenient(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The fields of an object, each value read leniently.
struct Fields {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Fields {
    fn new(map: Map<String, Value>) -> Fields {
        Fields {
            iter: map.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                let key: de::value::StringDeserializer<serde_json::Error> = key.into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Lenient(v)),
            None => Err(de::Error::custom("value asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Dto {
        id: i64,
        label: String,
        #[serde(default)]
        sort: Option<i32>,
        #[serde(default)]
        price: Option<f64>,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        copies: u32,
        name: String,
    }

    #[test]
    fn numeric_strings_become_numbers_and_numbers_strings() {
        let dto: Dto = from_value(json!({
            "id": "123", "label": 1, "sort": "5", "price": "12.5", "unknown": [1, {"x": 2}],
            "items": [{"copies": "2", "name": 7}]
        }))
        .unwrap();
        assert_eq!(
            dto,
            Dto {
                id: 123,
                label: "1".into(),
                sort: Some(5),
                price: Some(12.5),
                items: vec![Item {
                    copies: 2,
                    name: "7".into()
                }],
            }
        );
    }

    #[test]
    fn plain_values_read_as_serde_reads_them() {
        let dto: Dto = from_value(json!({"id": 7, "label": "家", "sort": null})).unwrap();
        assert_eq!((dto.id, dto.label.as_str(), dto.sort), (7, "家", None));
        let whole: Dto = from_value(json!({"id": 1.0, "label": "x"})).unwrap();
        assert_eq!(whole.id, 1);
    }

    #[test]
    fn what_is_not_a_number_stays_an_error() {
        for id in [
            json!("x"),
            json!(""),
            json!(" 1"),
            json!("1e3"),
            json!("0x10"),
            json!("1."),
            json!("1.5"),
            json!(1.5),
            json!(true),
            json!(null),
            json!([1]),
            json!({"id": 1}),
            json!("99999999999999999999"),
            json!(99999999999999999999.0),
        ] {
            let r: Result<Dto, _> = from_value(json!({"id": id, "label": "x"}));
            assert!(r.is_err(), "id {id} must be refused, got {r:?}");
        }
        for label in [json!(["a"]), json!({"a": 1}), json!(true), json!(null)] {
            let r: Result<Dto, _> = from_value(json!({"id": 1, "label": label}));
            assert!(r.is_err(), "label {label} must be refused");
        }
    }

    #[test]
    fn ranges_still_hold_after_coercion() {
        let r: Result<Dto, _> = from_value(json!({"id": 1, "label": "x", "sort": "3000000000"}));
        assert!(r.is_err(), "an i32 out of range stays an error");
        let r: Result<Item, _> = from_value(json!({"copies": "-1", "name": "x"}));
        assert!(
            r.is_err(),
            "a negative count for an unsigned field stays an error"
        );
    }
}
