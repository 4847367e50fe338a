//! Pure domain logic, compiled for both the server and the browser.

pub mod connectors;
pub mod email;
pub mod email_list;
pub mod invites;
pub mod members;
pub mod membership;
pub mod message;
pub mod onboarding;
pub mod password;
pub mod permissions;
pub mod settings;
pub mod time;

pub use email::{AddressProblem, EmailAddress, EmailError};
pub use membership::MembershipStatus;
pub use permissions::{Permission, PermissionSet};
