//! Everything the model needs from one 16 kHz audio track: per 300 s piece, the Whisper
//! features and the BEATs fbank, cut and padded as WAVE's `process_audio` and the BEATs loop
//! of the model's forward do.

use super::{
    audio_segments, beats_fbank, whisper_features, BeatsFbank, PreprocessConfig, PreprocessError,
    WhisperFeatures,
};

/// Model inputs of one audio track, one entry per piece (one piece below 300 s).
#[derive(Debug, Clone)]
pub struct AudioInputs {
    pub whisper: Vec<WhisperFeatures>,
    pub beats: Vec<BeatsFbank>,
}

impl AudioInputs {
    /// Splits `pcm` (16 kHz mono) into `n_samples` pieces and preprocesses each for both
    /// encoders. Both front ends pad a piece shorter than one second with zeros.
    pub fn from_pcm(pcm: &[f32], cfg: &PreprocessConfig) -> Result<Self, PreprocessError> {
        let pieces = audio_segments(pcm, cfg.whisper.n_samples);
        let whisper = pieces
            .iter()
            .map(|p| whisper_features(p, &cfg.whisper))
            .collect::<Result<Vec<_>, _>>()?;
        let beats = pieces
            .iter()
            .map(|p| beats_fbank(p, &cfg.beats))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AudioInputs { whisper, beats })
    }

    /// N_a summed over the pieces: the `<|AUDIO|>` placeholder count is twice this with BEATs.
    pub fn whisper_token_count(&self) -> usize {
        self.whisper.iter().map(WhisperFeatures::token_count).sum()
    }
}
