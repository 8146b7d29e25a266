//! wave-ingest: the media side of bulk ingest.
//!
//! 1. [`discover()`] a directory tree or a JSONL manifest into [`WorkItem`]s (text, audio,
//!    video), each with its sidecar transcript ([`Transcript`]).
//! 2. Decode: [`load_text`], [`decode_audio`] (16 kHz mono f32), [`decode_video`] (RGB frames
//!    at 2 fps with timestamps, plus audio; silent vs audio-video).
//! 3. [`segment()`] long media into overlapping [`ClipSpan`]s.
//! 4. [`pipeline::ingest`] runs it all in bulk: parallel decode, batched embedding, atomic and
//!    resumable store writes.
//!
//! Bad input is an [`IngestError`] naming the path and the reason, never a panic.

pub mod backfill;
pub mod blob;
pub mod decode;
pub mod discover;
pub mod error;
pub mod item;
pub mod kind;
pub mod manifest;
pub mod melody;
pub mod pipeline;
pub mod segment;
pub mod subtitles;

pub use backfill::{
    backfill_melody, backfill_melody_with, BackfillFailure, BackfillOptions, BackfillReport,
};
pub use decode::audio::{
    decode_audio, decode_audio_with, Audio, AudioOptions, ChannelMix, SILENCE_PEAK,
};
pub use decode::probe::{probe_media, AudioStreamInfo, MediaInfo, VideoStreamInfo};
pub use decode::resample::resample;
pub use decode::text::load_text;
pub use decode::video::{decode_video, Video, VideoKind, VideoOptions};
pub use decode::{Limits, TARGET_RATE};
pub use discover::{discover, discover_dir, find_sidecar};
pub use error::{IngestError, Result};
pub use item::{Source, WorkItem};
pub use kind::MediaKind;
pub use manifest::read_manifest;
pub use segment::{segment, ClipSpan, SegmentConfig};
pub use subtitles::{load_sidecar, parse_cues, Cue, Transcript};
