//! Backbones, blocks and decoders.

pub mod arch;
pub mod backbone;
pub mod blocks;
pub mod cpu;
pub mod decoder;
pub mod init;
pub mod inspect;
pub mod network;

pub use arch::{ArchSpec, BlockKind, Downsample, StageSpec};
pub use backbone::{bilinear_resize, global_pool, Stage, Stem};
pub use blocks::{Block, ConvBn};
pub use decoder::{Decoder, DecoderSpec};
pub use init::seeded;
pub use network::Network;
