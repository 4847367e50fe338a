use serde::{Deserialize, Serialize};
use server_fn_error::*;

/// The one error type that crosses the wire. Each variant says what the person can act on;
/// the database's or a provider's own text is logged on the server and never sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    NotAllowed,
    /// The organization asks everyone to accept a new version of its agreement, and the caller
    /// has not yet: they may reach nothing else until they do.
    #[error("Please read and accept the updated agreement to continue.")]
    AgreementPending,
    #[error("{reason}")]
    Invalid { field: String, reason: String },
    /// Several fields of one form are wrong: each `(field, reason)`, in the form's order.
    #[error("Some fields need changing: see the message beside each.")]
    InvalidFields(Vec<(String, String)>),
    #[error("That item no longer exists.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The database cannot be reached just now; nothing was changed.
    #[error("Onboard cannot reach its database just now, so nothing was changed. Please try again in a moment.")]
    Unavailable,
    #[error("Could not reach Onboard. Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), reason: reason.into() }
    }

    /// Every problem of a form at once: `Invalid` for one, `InvalidFields` for several; `None`
    /// when `problems` is empty.
    pub fn invalid_fields(mut problems: Vec<(String, String)>) -> Option<Self> {
        match problems.len() {
            0 => None,
            1 => problems.pop().map(|(field, reason)| Self::Invalid { field, reason }),
            _ => Some(Self::InvalidFields(problems)),
        }
    }

    /// The message for a given form field, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            Self::Invalid { field, reason } if field == name => Some(reason.clone()),
            Self::InvalidFields(problems) => problems.iter().find(|(f, _)| f == name).map(|(_, r)| r.clone()),
            _ => None,
        }
    }

    /// Whether this error is about named form fields, shown beside them rather than above the form.
    pub fn is_about_fields(&self) -> bool {
        matches!(self, Self::Invalid { field, .. } if !field.is_empty()) || matches!(self, Self::InvalidFields(_))
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::NotAllowed | Self::AgreementPending => 403,
            Self::Invalid { .. } | Self::InvalidFields(_) => 422,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::TooManyAttempts(_) => 429,
            Self::Internal | Self::Transport(_) => 500,
            Self::Unavailable => 503,
        }
    }
}

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The arguments did not decode: a form was tampered with or sent incomplete.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                Self::invalid("", "The form was incomplete. Reload the page and try again.")
            }
            ServerFnErrorErr::Request(e) => Self::Transport(e),
            _ => Self::Internal,
        }
    }
}
