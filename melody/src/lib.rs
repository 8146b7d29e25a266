//! wave-melody: the tune of a piece of audio as a vector, for hum search.
//!
//! [`track_pitch`] runs YIN over mono PCM (any rate) and decides which frames are voiced;
//! [`contour`] turns the voiced pitch into semitones relative to the tune's median over the
//! voiced span; [`embed_track`] summarises it as an L2-normalised vector whose cosine
//! similarity is high for the same tune in another key, at another tempo, hummed, whistled or
//! played, and low for a different tune. [`melody_vector`] does all three with the defaults.
//! Knows no store and no model.

pub mod contour;
pub mod embed;
pub mod error;
pub mod yin;

pub use contour::{contour, Contour};
pub use embed::{embed_contour, embed_track, EmbeddingConfig};
pub use error::MelodyError;
pub use yin::{track_pitch, PitchConfig, PitchFrame, PitchTrack};

/// The name of the vector space melody vectors are stored in.
pub const MELODY_SPACE: &str = "melody";

/// Length of [`melody_vector`]'s vectors.
pub fn melody_dim() -> usize {
    EmbeddingConfig::default().dim()
}

/// The melody vector of `samples` (mono PCM at `rate` Hz) with the default tracker and
/// embedding settings. Errors for silence, too-short audio or audio without a tune.
pub fn melody_vector(samples: &[f32], rate: u32) -> Result<Vec<f32>, MelodyError> {
    let track = track_pitch(samples, rate, &PitchConfig::default())?;
    embed_track(&track, &EmbeddingConfig::default())
}
