//! Errors for inputs the audio encoders cannot process (wrong shapes, clips too short).

/// A bad input to one of the audio stages. Weight problems are `WeightError`s at load time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    #[error("{what}: expected {expected} {axis}, found {found}")]
    Dim {
        what: &'static str,
        axis: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{what}: input of {found} {unit} is too short (need at least {min})")]
    TooShort {
        what: &'static str,
        unit: &'static str,
        found: usize,
        min: usize,
    },
    #[error("interleave: whisper tokens have shape {whisper:?}, BEATs tokens {beats:?}; they must be equal")]
    Interleave {
        whisper: [usize; 2],
        beats: [usize; 2],
    },
}
