//! Umbrella crate: re-exports the Ark VM for the examples and benchmarks.
pub use ark_vm as vm;
