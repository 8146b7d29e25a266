//! Melody vectors of media clips: every audio or audio-video clip with pitched content also gets
//! a key- and tempo-invariant melody vector (wave-melody) in the `melody` space, so hums can find
//! it by its tune. A clip without a tune (speech-free noise, silence, a silent video, text)
//! simply has no melody vector; that is not an error.
//!
//! Bulk ingest, the API's Upsert and the melody backfill all go through [`clip_melody`] and
//! [`ensure_melody_space`], so a clip's melody vector is the same whichever way it was written.

use wave_engine::embedder::Input;
use wave_index::{IndexError, SpaceParams, Store};

pub use wave_melody::MELODY_SPACE;

/// The melody vector of a decoded clip, when it has sound with a tune in it.
pub fn clip_melody(input: &Input) -> Option<Vec<f32>> {
    let (pcm, rate) = match input {
        Input::Audio {
            pcm, sample_rate, ..
        }
        | Input::AudioVideo {
            pcm, sample_rate, ..
        } => (pcm, *sample_rate),
        Input::Text(_) | Input::Video { .. } => return None,
    };
    // Silence, too-short audio and audio without a tune all mean "no melody" here.
    wave_melody::melody_vector(pcm, rate).ok()
}

/// Dimension of the `melody` space.
pub fn melody_dim() -> usize {
    wave_melody::melody_dim()
}

/// Declares the `melody` space in `store` (a no-op when it exists with the same parameters).
pub fn ensure_melody_space(store: &Store) -> Result<(), IndexError> {
    store.create_space(MELODY_SPACE, SpaceParams::new(melody_dim()))
}
