//! Umbrella crate: re-exports the Ark VM and the Bevy plugin, and holds the
//! demo game that the examples and benchmarks use.
pub use ark_vm as vm;
pub use bevy_ark as plugin;

pub mod arena;
