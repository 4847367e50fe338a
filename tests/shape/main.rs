//! The shape of the code and schema, checked from the source text: no import cycle among the
//! server's modules, and the two migration trees describing the same tables.

mod cycles;
mod migrations;
