//! The chat-template text of one user turn, as `process_omni_conversations` keeps it.

use super::tokens::{
    AUDIO, AUDIO_BOS, AUDIO_EOS, IMAGE, IM_END, IM_START, VIDEO, VISION_BOS, VISION_EOS,
};

/// Which media item opens the user turn. Audio-video inputs use the video item: the audio is
/// woven in by placeholder expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Image,
    Video,
}

/// `<media placeholder>{prompt}<|im_end|>`: the Qwen2.5-Omni template rendered for a single user
/// message `[media, text]`, split after the last `<|im_start|>user\n` and stripped, as the reference does.
pub fn user_turn(kind: MediaKind, prompt: &str) -> String {
    let media = match kind {
        MediaKind::Audio => format!("{AUDIO_BOS}{AUDIO}{AUDIO_EOS}"),
        MediaKind::Image => format!("{VISION_BOS}{IMAGE}{VISION_EOS}"),
        MediaKind::Video => format!("{VISION_BOS}{VIDEO}{VISION_EOS}"),
    };
    let user_header = format!("{IM_START}user\n");
    let rendered = format!(
        "{IM_START}system\nYou are a helpful assistant.{IM_END}\n{user_header}{media}{prompt}{IM_END}\n"
    );
    let after_user = rendered
        .rsplit(user_header.as_str())
        .next()
        .unwrap_or(rendered.as_str());
    after_user.trim().to_string()
}

/// The label (text) route: `text<|im_end|>` (not doubled when the text already ends with it).
pub fn label_text(text: &str) -> String {
    if text.ends_with(IM_END) {
        text.to_string()
    } else {
        format!("{text}{IM_END}")
    }
}
