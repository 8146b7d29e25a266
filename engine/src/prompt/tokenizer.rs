//! The model directory's `tokenizer.json`, through the `tokenizers` crate.

use std::path::{Path, PathBuf};

use super::tokens;
use crate::config::WaveConfig;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error(
        "{path}: no tokenizer.json in the model directory (WAVE needs the Qwen2.5-Omni tokenizer)"
    )]
    NoTokenizer { path: PathBuf },
    #[error("{path}: cannot load the tokenizer: {message}")]
    BadTokenizer { path: PathBuf, message: String },
    #[error("cannot tokenize: {0}")]
    Encode(String),
    #[error("token layout: {0}")]
    Layout(String),
}

/// Text to token ids, with a check that the special tokens carry the config's ids.
#[derive(Clone)]
pub struct PromptTokenizer {
    inner: tokenizers::Tokenizer,
}

impl PromptTokenizer {
    /// Loads `dir/tokenizer.json` and checks its media tokens against `config`.
    pub fn from_dir(dir: &Path, config: &WaveConfig) -> Result<Self, PromptError> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(PromptError::NoTokenizer { path });
        }
        let inner =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| PromptError::BadTokenizer {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let this = Self { inner };
        let expected = [
            (tokens::AUDIO, config.audio_token_index),
            (tokens::VIDEO, config.video_token_index),
            (tokens::IMAGE, config.image_token_index),
            (tokens::AUDIO_BOS, config.audio_start_token_id),
            (tokens::AUDIO_EOS, config.audio_end_token_id),
            (tokens::VISION_BOS, config.vision_start_token_id),
            (tokens::VISION_EOS, config.vision_end_token_id),
        ];
        for (token, id) in expected {
            let found = this.inner.token_to_id(token);
            if found != Some(id) {
                return Err(PromptError::BadTokenizer {
                    path,
                    message: format!("{token} has id {found:?}, config.json says {id}"),
                });
            }
        }
        Ok(this)
    }

    /// Token ids of `text` (special tokens atomic; no BOS, as Qwen2).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, PromptError> {
        let encoding = self
            .inner
            .encode(text, true)
            .map_err(|e| PromptError::Encode(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}
