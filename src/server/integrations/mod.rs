//! Clients for the chat providers Onboard messages people through. Each takes its base URLs
//! from configuration, so tests run fakes on loopback.

pub mod bot_framework;
pub mod chat;
pub mod connector;
pub mod d360;
pub mod directory;
pub mod provider;
pub mod shared;
pub mod slack;
pub mod teams;
pub mod telegram;
pub mod twilio;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod media_tests;
