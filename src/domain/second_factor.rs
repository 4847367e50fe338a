//! The second factor a person proves at registration and uses at every sign-in.

keyed_enum! {
    /// How a person proves it is them after their password.
    pub enum SecondFactor {
        /// A one-time code sent to the address they were invited with.
        Email = "email",
        /// A one-time code by text message to their mobile number.
        Sms = "sms",
        /// A time-based code from an authenticator app (TOTP, RFC 6238).
        Totp = "totp",
    }
}
