//! Built-in sandbox Digistore24 (being written).
