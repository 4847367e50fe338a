//! How shared values sit in database columns, for the server's `FromRow` derives on shared
//! types. Keyed enums are text columns (`keyed_enum!`).

/// A flag column read as a bool from either database: PostgreSQL's BOOLEAN or SQLite's 0/1.
/// Use it on bool fields with `#[sqlx(try_from = "crate::domain::columns::Flag")]`.
#[derive(Clone, Copy, Debug)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        use sqlx::any::AnyTypeInfoKind::*;
        matches!(ty.kind, Bool | SmallInt | Integer | BigInt)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<sqlx::Any>>::decode(value.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => <i64 as sqlx::Decode<sqlx::Any>>::decode(value).map(|i| Flag(i != 0)),
        }
    }
}
