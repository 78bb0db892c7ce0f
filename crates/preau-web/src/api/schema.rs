//! JSON Schemas of the API's types, written next to the types themselves.
//!
//! [`object!`] declares an answer's type once: the struct that is serialised, its schema
//! for the OpenAPI document and, with `from`, the field-by-field copy from a stored row (a
//! renamed column then fails to compile instead of renaming the API). [`input!`] describes
//! a request body or a query string and destructures the type the handler reads, so a
//! field added, renamed or removed there fails to compile until the document follows.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

/// The named schemas of the document (`components.schemas`).
pub type Defs = BTreeMap<&'static str, Value>;

/// A function that writes a type's schema, as the operation table stores it.
pub type SchemaFn = fn(&mut Defs) -> Value;

pub trait Schema {
    /// The type's schema: a `$ref` for named objects, which are added to `defs`.
    fn schema(defs: &mut Defs) -> Value;
    /// A request field of this type may be left out.
    const OPTIONAL: bool = false;
}

macro_rules! scalar {
    ($($t:ty => $s:tt),* $(,)?) => {
        $(impl Schema for $t {
            fn schema(_: &mut Defs) -> Value {
                json!($s)
            }
        })*
    };
}

scalar! {
    i64 => {"type": "integer"},
    i32 => {"type": "integer"},
    usize => {"type": "integer", "minimum": 0},
    f64 => {"type": "number"},
    bool => {"type": "boolean"},
    String => {"type": "string"},
    NaiveDate => {"type": "string", "format": "date"},
    DateTime<Utc> => {"type": "string", "format": "date-time"},
    Value => {},
}

impl<T: Schema> Schema for Option<T> {
    fn schema(defs: &mut Defs) -> Value {
        json!({"anyOf": [T::schema(defs), {"type": "null"}]})
    }
    const OPTIONAL: bool = true;
}

impl<T: Schema> Schema for Vec<T> {
    fn schema(defs: &mut Defs) -> Value {
        json!({"type": "array", "items": T::schema(defs)})
    }
}

/// A page of a list: `{"items": [...], "next": cursor|null}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    /// The cursor of the next page, `null` on the last one.
    pub next: Option<String>,
}

impl<T> List<T> {
    pub fn all(items: Vec<T>) -> Self {
        List { items, next: None }
    }
}

impl<T: Schema> Schema for List<T> {
    fn schema(defs: &mut Defs) -> Value {
        json!({
            "type": "object",
            "properties": {"items": Vec::<T>::schema(defs), "next": Option::<String>::schema(defs)},
            "required": ["items", "next"],
            "additionalProperties": false,
        })
    }
}

/// One object, or a page of them (`GET /coverage` with or without `school`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum OneOrList<T> {
    One(T),
    List(List<T>),
}

impl<T: Schema> Schema for OneOrList<T> {
    fn schema(defs: &mut Defs) -> Value {
        json!({"anyOf": [T::schema(defs), List::<T>::schema(defs)]})
    }
}

/// An object's fields: name, schema, whether it must be present.
pub type Fields = Vec<(&'static str, Value, bool)>;

/// Types whose fields can be listed (objects, request bodies, query strings).
pub trait Object {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    fn fields(defs: &mut Defs) -> Fields;
}

/// The `$ref` to a named object, writing its definition on first use.
pub fn named<T: Object>(defs: &mut Defs) -> Value {
    if !defs.contains_key(T::NAME) {
        defs.insert(T::NAME, Value::Null);
        let body = object_schema(T::DESCRIPTION, T::fields(defs));
        defs.insert(T::NAME, body);
    }
    json!({"$ref": format!("#/components/schemas/{}", T::NAME)})
}

pub fn object_schema(description: &str, fields: Fields) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for (name, schema, needed) in fields {
        props.insert(name.to_string(), schema);
        if needed {
            required.push(name);
        }
    }
    let mut o = json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    });
    let description = description.trim();
    if !description.is_empty() {
        o["description"] = json!(description);
    }
    o
}

/// The schema of a partial change to `T`: any of its fields, and `version`.
pub fn patch_of<T: Object>(defs: &mut Defs) -> Value {
    let mut fields: Fields = T::fields(defs)
        .into_iter()
        .map(|(n, s, _)| (n, s, false))
        .collect();
    fields.push((
        "version",
        json!({"type": "integer", "description": "the version read; a stale one answers 409"}),
        true,
    ));
    object_schema(&format!("A change to some fields of {}.", T::NAME), fields)
}

/// Declares an answer type: the struct, its schema and (with `from Row`) its copy from a
/// stored row. `Name: Base { … }` flattens `Base`'s fields first.
macro_rules! object {
    (@schema $name:ident [$($doc:literal)*] $($base:ty)? ; $($field:ident : $ty:ty),*) => {
        impl $crate::api::schema::Object for $name {
            const NAME: &'static str = stringify!($name);
            const DESCRIPTION: &'static str = concat!($($doc, "\n",)* "");
            #[allow(unused_mut)]
            fn fields(defs: &mut $crate::api::schema::Defs) -> $crate::api::schema::Fields {
                let mut f: $crate::api::schema::Fields = Vec::new();
                $(f.extend(<$base as $crate::api::schema::Object>::fields(defs));)?
                f.extend([$((
                    $crate::api::schema::field_name(stringify!($field)),
                    <$ty as $crate::api::schema::Schema>::schema(defs),
                    true,
                )),*]);
                f
            }
        }
        impl $crate::api::schema::Schema for $name {
            fn schema(defs: &mut $crate::api::schema::Defs) -> serde_json::Value {
                $crate::api::schema::named::<$name>(defs)
            }
        }
    };
    ($(#[doc = $doc:literal])* $name:ident from $src:path {
        $($(#[doc = $fdoc:literal])* $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, serde::Serialize)]
        pub struct $name {
            $($(#[doc = $fdoc])* pub $field: $ty,)*
        }
        impl From<&$src> for $name {
            fn from(r: &$src) -> Self {
                $name { $($field: r.$field.clone(),)* }
            }
        }
        object!(@schema $name [$($doc)*] ; $($field : $ty),*);
    };
    ($(#[doc = $doc:literal])* $name:ident : $base:ty {
        $($(#[doc = $fdoc:literal])* $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, serde::Serialize)]
        pub struct $name {
            #[serde(flatten)]
            pub base: $base,
            $($(#[doc = $fdoc])* pub $field: $ty,)*
        }
        object!(@schema $name [$($doc)*] $base ; $($field : $ty),*);
    };
    ($(#[doc = $doc:literal])* $name:ident {
        $($(#[doc = $fdoc:literal])* $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, serde::Serialize)]
        pub struct $name {
            $($(#[doc = $fdoc])* pub $field: $ty,)*
        }
        object!(@schema $name [$($doc)*] ; $($field : $ty),*);
    };
}

/// Documents what a handler reads (a request body or a query string) as `Name`, naming
/// the Rust type it is read into: the fields listed must be exactly that type's fields.
/// A field's type here is its JSON type (`Option<…>`: may be left out). `[a, b]` names
/// fields documented elsewhere (a flattened part: `; with Part` adds its fields).
macro_rules! input {
    ($(#[doc = $doc:literal])* $name:ident for $src:path $([$($skip:ident),*])? $(; with $base:ty)? {
        $($(#[doc = $fdoc:literal])* $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[doc = $doc])*
        pub enum $name {}
        impl $name {
            /// Compiles only while the fields above are exactly those of the type read.
            #[allow(dead_code, clippy::unused_unit)]
            fn _same_fields(v: $src) {
                let $src { $($field: _,)* $($($skip: _,)*)? } = v;
            }
        }
        impl $crate::api::schema::Object for $name {
            const NAME: &'static str = stringify!($name);
            const DESCRIPTION: &'static str = concat!($($doc, "\n",)* "");
            #[allow(unused_mut)]
            fn fields(defs: &mut $crate::api::schema::Defs) -> $crate::api::schema::Fields {
                let mut f: $crate::api::schema::Fields = vec![$((
                    stringify!($field),
                    $crate::api::schema::described(
                        <$ty as $crate::api::schema::Schema>::schema(defs),
                        concat!($($fdoc,)* ""),
                    ),
                    !<$ty as $crate::api::schema::Schema>::OPTIONAL,
                )),*];
                $(f.extend(<$base as $crate::api::schema::Object>::fields(defs));)?
                f
            }
        }
        impl $crate::api::schema::Schema for $name {
            fn schema(defs: &mut $crate::api::schema::Defs) -> serde_json::Value {
                $crate::api::schema::named::<$name>(defs)
            }
        }
    };
}

pub(crate) use {input, object};

/// A field's name in JSON (`r#type` is `type`).
pub fn field_name(rust: &'static str) -> &'static str {
    rust.strip_prefix("r#").unwrap_or(rust)
}

/// A schema with its description, when there is one.
pub fn described(mut schema: Value, description: &str) -> Value {
    let d = description.trim();
    if !d.is_empty() {
        if schema.get("$ref").is_some() || schema.get("anyOf").is_some() {
            schema = json!({"allOf": [schema]});
        }
        schema["description"] = json!(d);
    }
    schema
}
