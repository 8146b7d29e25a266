//! Why a melody could not be read from a piece of audio.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum MelodyError {
    #[error("sample rate {0} Hz is not usable for pitch tracking (need 8000..=384000)")]
    BadRate(u32),
    #[error("audio contains non-finite samples (NaN or infinity)")]
    NonFinite,
    #[error("audio is too short for a melody: {seconds:.3} s (need at least {min_seconds:.2} s)")]
    TooShort { seconds: f64, min_seconds: f64 },
    #[error("audio is silent")]
    Silent,
    #[error(
        "no pitched content: {voiced_s:.2} s of voiced sound (need at least {min_voiced_s:.2} s)"
    )]
    NoPitch { voiced_s: f64, min_voiced_s: f64 },
}
