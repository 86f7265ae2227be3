//! digistore24-mcp: the Digistore24 vendor API as Model Context Protocol tools.
//!
//! The binary (`src/main.rs`) is a thin shell over this library; see
//! `ARCHITECTURE.md` for the map of the modules and the path of one tool call.

pub mod catalog;
pub mod cli;
pub mod dashboard;
pub mod ds24;
pub mod http;
pub mod ipn;
pub mod mcp;
pub mod oauth;
pub mod ops;
pub mod sandbox;
pub mod store;
