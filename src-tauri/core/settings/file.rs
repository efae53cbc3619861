//! How the top level of a settings file is read. Besides the app's own
//! settings it may hold the keys of one stream (`server_url`, `headers`,
//! ...): a file of one server, written before subscriptions, and what
//! scripts still say. Those keys are the subscription's own fields (less
//! its name and switch), taken from its `Deserialize`, so a field added to
//! [`Subscription`] is one more stream key without another list to change.
//!
//! The file is read twice: once as [`Settings`] skipping the stream keys,
//! once as a [`Subscription`] of the stream keys alone. Each reading still
//! goes through the file's own deserializer, so an error names its line as
//! serde and TOML say it, and a key of neither is refused with every key
//! the top level knows.

use std::sync::OnceLock;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess,
    Visitor,
};

use super::{Settings, Subscription};

/// A subscription's keys that a file of one server never had at its top
/// level: it had no name, and its `notifications` is the app's switch.
const SUBSCRIPTION_ONLY_KEYS: &[&str] = &["name", "notifications"];

/// The keys of the one stream of a file of one server: the subscription's
/// fields, in their order, less [`SUBSCRIPTION_ONLY_KEYS`].
pub(super) fn stream_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        fields_of::<Subscription>()
            .iter()
            .copied()
            .filter(|key| !SUBSCRIPTION_ONLY_KEYS.contains(key))
            .collect()
    })
}

/// The keys only a subscription has, addressed as `subscriptions.NAME.KEY`.
pub(super) fn subscription_only_keys() -> &'static [&'static str] {
    SUBSCRIPTION_ONLY_KEYS
}

/// Every key the top level of a file may hold: the app's, then the
/// stream's (the order serde's "expected one of" has always listed).
fn top_level_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = fields_of::<Settings>().to_vec();
        keys.extend(stream_keys());
        keys
    })
}

/// The keys `T`'s derived `Deserialize` reads: derive hands them to
/// `deserialize_struct`, which is all this deserializer answers.
fn fields_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    struct FieldsOf<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for FieldsOf<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only its fields were asked for"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    // Always an error: the value is not wanted, only the fields seen.
    let _: Result<T, _> = T::deserialize(FieldsOf(&mut fields));
    fields
}

/// The app's settings of a file's top level, and the stream keys there
/// read as a subscription (the default one when there are none).
/// `file` gives the file's deserializer anew for each reading.
pub(super) fn read<'de, D: Deserializer<'de>>(
    mut file: impl FnMut() -> Result<D, D::Error>,
) -> Result<(Settings, Subscription), D::Error> {
    let settings = Settings::deserialize(TopLevel {
        file: file()?,
        part: Part::App,
    })?;
    let single = Subscription::deserialize(TopLevel {
        file: file()?,
        part: Part::SingleStream,
    })?;
    Ok((settings, single))
}

/// Which of the top level's keys one reading takes.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// The app's settings.
    App,
    /// The stream keys of a file of one server.
    SingleStream,
}

impl Part {
    /// Whether this reading takes `key`, one the top level knows.
    fn takes(self, key: &str) -> bool {
        stream_keys().contains(&key) == matches!(self, Part::SingleStream)
    }
}

/// The top level of a file as one part sees it: a map of that part's keys.
struct TopLevel<D> {
    file: D,
    part: Part,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TopLevel<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.file.deserialize_map(PartVisitor {
            visitor,
            part: self.part,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = PartVisitor {
            visitor,
            part: self.part,
        };
        self.file.deserialize_struct(name, fields, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Hands the part's visitor the file's map with the other part's keys
/// left out.
struct PartVisitor<V> {
    visitor: V,
    part: Part,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for PartVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.visitor.expecting(formatter)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(PartMap {
            map,
            part: self.part,
        })
    }
}

/// The file's map with only one part's keys.
struct PartMap<A> {
    map: A,
    part: Part,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for PartMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key_seed(KeyOf(self.part))? {
            match key {
                Some(key) => return seed.deserialize(key.into_deserializer()).map(Some),
                None => {
                    self.map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A top-level key: this part's (`Some`), the other part's (`None`), or
/// refused as unknown. Read inside the file's own key reading, so that the
/// refusal carries the key's place in the file.
struct KeyOf(Part);

impl<'de> DeserializeSeed<'de> for KeyOf {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, key: D) -> Result<Option<String>, D::Error> {
        let key = String::deserialize(key)?;
        if !top_level_keys().contains(&key.as_str()) {
            return Err(de::Error::unknown_field(&key, top_level_keys()));
        }
        Ok(self.0.takes(&key).then_some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_keys_are_the_subscriptions_fields_less_its_name_and_switch() {
        let subscription = fields_of::<Subscription>();
        let keys = stream_keys();
        assert_eq!(subscription[0], "name", "{subscription:?}");
        assert_eq!(
            keys.len() + SUBSCRIPTION_ONLY_KEYS.len(),
            subscription.len()
        );
        assert!(
            keys.contains(&"server_url") && keys.contains(&"rules"),
            "{keys:?}"
        );
        // A stream key that were also the app's could not be told apart.
        let app = fields_of::<Settings>();
        assert!(app.contains(&"history"), "{app:?}");
        for key in keys {
            assert!(!app.contains(key), "{key}");
        }
    }
}
