//! The generators: JSON values that know what a field should hold (and sometimes hold anything
//! else), ids picked from pools of rows that exist, and hostile text.
//!
//! A generated value is a [`J`] tree; `Ref`s into a [`Pools`] are resolved when the case runs,
//! so a case names "the 3rd newest order" and gets an order that exists by then.

use std::collections::HashMap;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

/// The kinds of rows a generated id can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pool {
    Shop,
    Category,
    Dish,
    Setmeal,
    Address,
    Order,
    OrderNumber,
    /// The amount (fen) of the order at the same place in [`Pool::OrderNumber`].
    OrderAmount,
    Employee,
    Alert,
}

/// The newest rows of each kind, refreshed from the database while the run goes on.
#[derive(Default)]
pub struct Pools(Mutex<HashMap<Pool, Vec<Value>>>);

impl Pools {
    pub fn set(&self, pool: Pool, values: Vec<Value>) {
        self.0.lock().unwrap().insert(pool, values);
    }

    fn pick(&self, pool: Pool, i: &Index) -> Value {
        let map = self.0.lock().unwrap();
        match map.get(&pool) {
            Some(v) if !v.is_empty() => i.get(v).clone(),
            _ => json!(1),
        }
    }
}

/// A generated JSON value.
#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    /// A row of the pool (as a string when the flag is set).
    Ref(Pool, Index, bool),
    /// The values joined with commas, as a string (`ids=1,2,3`).
    Join(Vec<J>),
}

impl J {
    /// The value, with references resolved.
    pub fn value(&self, pools: &Pools) -> Value {
        match self {
            J::Null => Value::Null,
            J::Bool(b) => json!(b),
            J::Int(i) => json!(i),
            J::Float(f) => json!(f),
            J::Str(s) => json!(s),
            J::Arr(a) => Value::Array(a.iter().map(|j| j.value(pools)).collect()),
            J::Obj(o) => {
                Value::Object(o.iter().map(|(k, j)| (k.clone(), j.value(pools))).collect())
            }
            J::Ref(p, i, as_str) => {
                let v = pools.pick(*p, i);
                match (as_str, &v) {
                    (true, Value::Number(n)) => json!(n.to_string()),
                    _ => v,
                }
            }
            J::Join(parts) => json!(
                parts
                    .iter()
                    .map(|j| j.text(pools))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// The value as the text of a query parameter or a path segment.
    pub fn text(&self, pools: &Pools) -> String {
        match self.value(pools) {
            Value::String(s) => s,
            Value::Null => String::new(),
            v => v.to_string(),
        }
    }
}

/// What a field should hold.
#[derive(Debug, Clone, Copy)]
pub enum K {
    Id(Pool),
    Int,
    Str,
    Price,
    Date,
    DateTime,
    Bool,
    IdList(Pool),
    Flavors,
    SetmealDishes,
    Number,
    Phone,
    Sex,
    /// A user name: the real ones, or anything.
    Username,
    /// A small code (pay method, status, type, flag): mostly 0..=7.
    Code,
}

/// Characters that break things: quotes, escapes, NUL, %, CJK, emoji, bidi controls, commas.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('0', '9'),
        2 => proptest::sample::select(vec![
            '%', '\0', '\'', '"', '\\', '<', '>', '&', '中', '文', '😀', '\u{202e}', ' ', ',',
            '\n', '\t', '\u{7f}', '\u{feff}', '_', '*', '/', '?', '#', ';', '=', '+', '.', '，'
        ]),
        1 => any::<char>(),
    ]
}

/// Short hostile text, sometimes a long run of one character (over every length limit).
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => proptest::collection::vec(hostile_char(), 0..16).prop_map(String::from_iter),
        1 => (hostile_char(), 30usize..3000).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
}

/// Integers around the edges every parser gets wrong.
pub fn edge_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -3i64..60,
        1 => proptest::sample::select(vec![
            0, -1, i64::MAX, i64::MIN, i32::MAX as i64 + 1, 9_007_199_254_740_993, 99_999_999,
            1_000_000_000_000
        ]),
        1 => any::<i64>(),
    ]
}

/// Any JSON at all (nested up to three levels).
pub fn any_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        edge_int().prop_map(J::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(J::Float),
        text().prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            proptest::collection::vec((text(), inner), 0..4).prop_map(J::Obj),
        ]
    })
}

fn id(pool: Pool) -> BoxedStrategy<J> {
    prop_oneof![
        8 => any::<Index>().prop_map(move |i| J::Ref(pool, i, false)),
        1 => any::<Index>().prop_map(move |i| J::Ref(pool, i, true)),
        2 => edge_int().prop_map(J::Int),
        1 => Just(J::Float(1.5)),
    ]
    .boxed()
}

fn date(time: bool) -> BoxedStrategy<J> {
    (2019i32..2032, 0u32..14, 0u32..33, 0u32..25, 0u32..61)
        .prop_map(move |(y, m, d, h, mi)| {
            if time {
                J::Str(format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:00"))
            } else {
                J::Str(format!("{y:04}-{m:02}-{d:02}"))
            }
        })
        .boxed()
}

/// A value of this kind: mostly the right type, sometimes anything.
pub fn value(k: K) -> BoxedStrategy<J> {
    let right = match k {
        K::Id(p) => id(p),
        K::Int => edge_int().prop_map(J::Int).boxed(),
        K::Str => text().prop_map(J::Str).boxed(),
        K::Price => prop_oneof![
            (0.0f64..2_000_000.0).prop_map(J::Float),
            edge_int().prop_map(J::Int),
            proptest::sample::select(vec![
                "12.50",
                "0.01",
                "0.001",
                "-1",
                "1e308",
                "NaN",
                "9999999.99",
                ""
            ])
            .prop_map(|s| J::Str(s.into())),
        ]
        .boxed(),
        K::Date => date(false),
        K::DateTime => date(true),
        K::Bool => prop_oneof![
            any::<bool>().prop_map(J::Bool),
            Just(J::Str("true".into())),
            Just(J::Int(1))
        ]
        .boxed(),
        K::IdList(p) => proptest::collection::vec(id(p), 0..4)
            .prop_map(J::Join)
            .boxed(),
        K::Flavors => proptest::collection::vec(
            (
                text(),
                prop_oneof![
                    Just(J::Str(r#"["不辣","微辣","中辣"]"#.into())),
                    Just(J::Str("[]".into())),
                    text().prop_map(J::Str),
                    any_json(),
                ],
            )
                .prop_map(|(n, v)| J::Obj(vec![("name".into(), J::Str(n)), ("value".into(), v)])),
            0..4,
        )
        .prop_map(J::Arr)
        .boxed(),
        K::SetmealDishes => proptest::collection::vec(
            (id(Pool::Dish), edge_int()).prop_map(|(d, c)| {
                J::Obj(vec![("dishId".into(), d), ("copies".into(), J::Int(c))])
            }),
            0..4,
        )
        .prop_map(J::Arr)
        .boxed(),
        K::Number => prop_oneof![
            4 => any::<Index>().prop_map(|i| J::Ref(Pool::OrderNumber, i, false)),
            1 => text().prop_map(J::Str),
        ]
        .boxed(),
        K::Phone => prop_oneof![
            (0u64..100_000_000).prop_map(|n| J::Str(format!("138{n:08}"))),
            text().prop_map(J::Str),
        ]
        .boxed(),
        K::Sex => proptest::sample::select(vec!["0", "1", "2", "男", ""])
            .prop_map(|s| J::Str(s.into()))
            .boxed(),
        K::Code => {
            prop_oneof![4 => (0i64..8).prop_map(J::Int), 1 => edge_int().prop_map(J::Int)].boxed()
        }
        K::Username => prop_oneof![
            proptest::sample::select(vec!["admin", "shop2", "clerk", "nobody"])
                .prop_map(|s| J::Str(s.into())),
            text().prop_map(J::Str),
        ]
        .boxed(),
    };
    prop_oneof![9 => right, 1 => any_json()].boxed()
}

/// An object of these fields, each present most of the time, sometimes with an unknown one.
pub fn object(fields: &'static [(&'static str, K)]) -> BoxedStrategy<J> {
    let each: Vec<BoxedStrategy<Option<(String, J)>>> = fields
        .iter()
        .map(|(name, k)| {
            proptest::option::weighted(0.8, value(*k).prop_map(move |v| (name.to_string(), v)))
                .boxed()
        })
        .collect();
    (each, proptest::option::weighted(0.1, (text(), any_json())))
        .prop_map(|(fields, extra)| J::Obj(fields.into_iter().flatten().chain(extra).collect()))
        .boxed()
}
