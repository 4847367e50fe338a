//! Enums whose variants travel between server and browser, and sit in database columns, as short
//! text keys: each is declared once, with its keys, by [`keyed_enum!`].

/// Declares a `Copy` enum whose every variant has a text key, and gives it:
/// - `ALL`, `key()` and `parse(key)`;
/// - serde as the key; the variant's name (`"Slack"`) is read too, the spelling written before
///   the keys by outbox jobs still queued and by a browser still running the previous version;
/// - on the server, sqlx's `Any` type, encode and decode as a text column, so a `FromRow` field
///   of this type refuses a key it does not know instead of carrying it on as a string.
macro_rules! keyed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $key:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            pub const ALL: [Self; [$($key),+].len()] = [$(Self::$variant),+];

            /// The text this variant travels and is stored as.
            pub fn key(self) -> &'static str {
                match self {
                    $( Self::$variant => $key ),+
                }
            }

            pub fn parse(key: &str) -> Option<Self> {
                match key {
                    $( $key => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.key())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text)
                    .or_else(|| Self::ALL.into_iter().find(|variant| format!("{variant:?}") == text))
                    .ok_or_else(|| serde::de::Error::unknown_variant(&text, &[$($key),+]))
            }
        }

        #[cfg(feature = "ssr")]
        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let key = <String as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                Self::parse(&key).ok_or_else(|| format!("“{key}” is not a {} key", stringify!($name)).into())
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let key: &'q str = self.key();
                <&'q str as sqlx::Encode<'q, sqlx::Any>>::encode(key, buf)
            }
        }
    };
}

#[cfg(test)]
mod tests;
