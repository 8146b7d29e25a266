//! Decoding files into what the embedder consumes: text, 16 kHz mono audio, RGB frames.

pub mod audio;
mod ffmpeg;
pub mod probe;
pub mod resample;
mod sniff;
pub mod text;
pub mod video;

/// Sample rate of all decoded audio, the rate WAVE's audio front end requires.
pub const TARGET_RATE: u32 = 16_000;

/// Limits past which a file is rejected rather than decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Longest accepted media, in seconds. Default 24 h.
    pub max_duration_s: f64,
    /// Largest accepted frame side, in pixels. Default 16384.
    pub max_side: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_duration_s: 24.0 * 3600.0,
            max_side: 16_384,
        }
    }
}
