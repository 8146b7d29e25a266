//! The token sequences WAVE feeds its LLM (wave.md §1.6).
//!
//! Media inputs: the Qwen2.5-Omni chat template for one user turn `[media, text]`, cut to what
//! follows `<|im_start|>user\n` and stripped (no system prompt, `<|im_end|>` last); then every media
//! placeholder is expanded to one token per embedding row (for audio+video, into 2-second chunks of
//! video then audio tokens), and with BEATs every `<|AUDIO|>` is doubled. Text inputs (the label
//! route): `text<|im_end|>`, no template.

mod expand;
mod template;
mod tokenizer;

pub use self::expand::{chunk_bounds, expand_placeholders, MediaPlaceholders};
pub use self::template::{label_text, user_turn, MediaKind};
pub use self::tokenizer::{PromptError, PromptTokenizer};

/// The retrieval prompt for video and audio-video inputs.
pub const DEFAULT_VIDEO_PROMPT: &str = "Please describe the video.";
/// The retrieval prompt for audio inputs.
pub const DEFAULT_AUDIO_PROMPT: &str = "Please describe the audio.";

/// The token ids of one media input: chat-template user turn, placeholder expansion, tokenisation.
pub fn media_ids(
    tokenizer: &PromptTokenizer,
    kind: MediaKind,
    prompt: &str,
    media: &MediaPlaceholders,
) -> Result<Vec<u32>, PromptError> {
    tokenizer.encode(&expand_placeholders(&user_turn(kind, prompt), media)?)
}

/// The token ids of a text input (label route): `text<|im_end|>`.
pub fn text_ids(tokenizer: &PromptTokenizer, text: &str) -> Result<Vec<u32>, PromptError> {
    tokenizer.encode(&label_text(text))
}

/// The special-token strings of the Qwen2.5-Omni tokenizer.
pub mod tokens {
    pub const IM_START: &str = "<|im_start|>";
    pub const IM_END: &str = "<|im_end|>";
    pub const AUDIO: &str = "<|AUDIO|>";
    pub const AUDIO_BOS: &str = "<|audio_bos|>";
    pub const AUDIO_EOS: &str = "<|audio_eos|>";
    pub const VISION_BOS: &str = "<|vision_bos|>";
    pub const VISION_EOS: &str = "<|vision_eos|>";
    pub const IMAGE: &str = "<|IMAGE|>";
    pub const VIDEO: &str = "<|VIDEO|>";
}
