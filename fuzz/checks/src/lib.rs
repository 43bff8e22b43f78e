//! The properties every fuzz target checks, one module per target. Each `check(data)` decodes
//! the bytes into a configuration and a sequence of operations, runs them, and panics (a fuzzer
//! finding) on the first violated property. Nothing here depends on libFuzzer, so the same code
//! runs as a plain test over the checked-in corpora (`tests/corpus.rs`).
//!
//! To add a primitive: write `src/<name>.rs` with `pub fn check(data: &[u8])`, add `pub mod
//! <name>;` here, a three-line `fuzz_targets/<name>.rs`, a `[[bin]]` entry in `fuzz/Cargo.toml`
//! and a few seed files in `fuzz/corpus/<name>/`.
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod breaker_ops;
pub mod bulkhead_ops;
pub mod config_bytes;
pub mod deadline_headers;
pub mod health_ops;
pub mod histogram_ops;
pub mod limiter_ops;
pub mod sim_scenario;
pub mod window_config;
pub mod window_ops;

/// A cursor over fuzzer bytes: every read succeeds, returning zeros once the input is used up,
/// so that every input is a valid program.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A cursor at the start of `data`.
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    /// Whether every byte has been read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// The next eight bytes, little-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// The next `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}
