//! A query recording as the page sends it (MediaRecorder's webm/opus, or an uploaded file):
//! decoded with wave-ingest (symphonia, the system ffmpeg for opus/webm), then checked for
//! what makes a hum unusable — silence, too short, too long — before it reaches the engine.

use std::io::Write as _;

use wave_ingest::{decode_audio_with, AudioOptions, IngestError, Limits, TARGET_RATE};

use crate::wav::wav_pcm16;

/// Shortest usable recording: under a second there is no tune to follow.
pub const MIN_RECORDING_S: f64 = 1.0;
/// Longest accepted recording; the page stops recording here too.
pub const MAX_RECORDING_S: f64 = 30.0;
/// A recording whose loudest 50 ms stays below this level (dBFS, RMS) is silence: a muted or
/// disconnected microphone gives -70 dBFS or less, a quiet hum close to a laptop microphone
/// -35 dBFS or more.
pub const SILENCE_DBFS: f32 = -50.0;
/// Largest accepted upload. 30 s of 16-bit stereo 48 kHz WAV is 5.8 MB; room for other formats.
pub const MAX_UPLOAD_BYTES: usize = 24 << 20;
/// Decoding stops early past this length, so an hour-long upload costs little.
const DECODE_LIMIT_S: f64 = 10.0 * MAX_RECORDING_S;

/// Why a recording cannot be searched. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{name} is empty (0 bytes)")]
    Empty { name: String },
    #[error("{name} is {bytes} bytes; at most {max} bytes are accepted")]
    TooLarge {
        name: String,
        bytes: usize,
        max: usize,
    },
    #[error("{name} could not be decoded as audio: {reason}")]
    Undecodable { name: String, reason: String },
    #[error("{name} is {duration_s:.1} s long: hum for at least {MIN_RECORDING_S:.0} s")]
    TooShort { name: String, duration_s: f64 },
    #[error(
        "{name} is {duration_s:.1} s long: at most {MAX_RECORDING_S:.0} s are searched; \
         hum the part you remember"
    )]
    TooLong { name: String, duration_s: f64 },
    #[error(
        "{name} is silent (its loudest moment is {level_dbfs:.0} dBFS): check that the \
         microphone is on and not muted, then hum closer to it"
    )]
    Silent { name: String, level_dbfs: f32 },
    #[error("cannot stage the recording for decoding: {0}")]
    Io(#[from] std::io::Error),
}

impl RecordingError {
    /// A stable machine-readable code for the page and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            RecordingError::Empty { .. } => "empty",
            RecordingError::TooLarge { .. } => "too_large",
            RecordingError::Undecodable { .. } => "undecodable",
            RecordingError::TooShort { .. } => "too_short",
            RecordingError::TooLong { .. } => "too_long",
            RecordingError::Silent { .. } => "silent",
            RecordingError::Io(_) => "internal",
        }
    }

    /// Whether the server, not the recording, is at fault.
    pub fn is_internal(&self) -> bool {
        matches!(self, RecordingError::Io(_))
    }
}

/// A checked recording: 16 kHz mono samples.
#[derive(Debug, Clone)]
pub struct Recording {
    pub pcm_16k: Vec<f32>,
    pub duration_s: f64,
    /// RMS level of the loudest 50 ms, in dBFS.
    pub peak_level_dbfs: f32,
}

impl Recording {
    /// Decodes and checks uploaded bytes. `name` is what messages call the recording ("the
    /// recording", "hum.mp3"); `format` is the file extension or MIME subtype the page sent.
    pub fn decode(data: &[u8], format: &str, name: &str) -> Result<Recording, RecordingError> {
        let name = name.to_string();
        if data.is_empty() {
            return Err(RecordingError::Empty { name });
        }
        if data.len() > MAX_UPLOAD_BYTES {
            return Err(RecordingError::TooLarge {
                name,
                bytes: data.len(),
                max: MAX_UPLOAD_BYTES,
            });
        }
        // The decoders read files and pick a container by extension first, content second.
        let mut file = tempfile::Builder::new()
            .prefix("wave-demo-query-")
            .suffix(&format!(".{}", extension_of(format)))
            .tempfile()?;
        file.write_all(data)?;
        file.flush()?;
        let opts = AudioOptions {
            limits: Limits {
                max_duration_s: DECODE_LIMIT_S,
                ..Limits::default()
            },
            ..AudioOptions::default()
        };
        let audio = match decode_audio_with(file.path(), &opts) {
            Ok(a) => a,
            Err(IngestError::TooLong { duration_s, .. }) => {
                return Err(RecordingError::TooLong { name, duration_s })
            }
            Err(e) => {
                // The temp file's path means nothing to the user; name the recording instead.
                let reason = e
                    .to_string()
                    .replace(&format!("{}: ", file.path().display()), "")
                    .replace(&file.path().display().to_string(), "the file");
                return Err(RecordingError::Undecodable { name, reason });
            }
        };
        Recording::check(audio.pcm_16k, name)
    }

    /// Applies the length and silence checks to decoded 16 kHz mono samples.
    pub fn check(pcm_16k: Vec<f32>, name: String) -> Result<Recording, RecordingError> {
        let duration_s = pcm_16k.len() as f64 / TARGET_RATE as f64;
        if duration_s < MIN_RECORDING_S {
            return Err(RecordingError::TooShort { name, duration_s });
        }
        if duration_s > MAX_RECORDING_S {
            return Err(RecordingError::TooLong { name, duration_s });
        }
        let level = loudest_level_dbfs(&pcm_16k);
        if level < SILENCE_DBFS {
            return Err(RecordingError::Silent {
                name,
                level_dbfs: level,
            });
        }
        Ok(Recording {
            pcm_16k,
            duration_s,
            peak_level_dbfs: level,
        })
    }

    /// The recording as a 16 kHz mono 16-bit WAV file, what the engine is sent.
    pub fn to_wav(&self) -> Vec<u8> {
        wav_pcm16(&self.pcm_16k, TARGET_RATE)
    }
}

/// RMS level of the loudest 50 ms window, in dBFS (-120 for digital silence).
pub fn loudest_level_dbfs(pcm: &[f32]) -> f32 {
    let window = (TARGET_RATE / 20) as usize;
    let loudest = pcm
        .chunks(window)
        .map(|w| (w.iter().map(|s| s * s).sum::<f32>() / w.len() as f32).sqrt())
        .fold(0.0f32, f32::max);
    if loudest <= 1e-6 {
        -120.0
    } else {
        20.0 * loudest.log10()
    }
}

/// A safe file extension for a format the page sent: a MIME type (`audio/webm;codecs=opus`),
/// an extension (`.mp3`) or a file name (`hum.wav`). Unknown or odd input gives `bin`, which
/// the decoders then identify by content.
pub fn extension_of(format: &str) -> String {
    let f = format.trim().to_ascii_lowercase();
    let f = f.split(';').next().unwrap_or_default();
    let word = match f.rsplit_once('/') {
        // MIME subtypes that differ from the usual extension.
        Some((_, "mpeg")) => "mp3",
        Some((_, "x-wav" | "wave" | "vnd.wave")) => "wav",
        Some((_, "mp4" | "x-m4a" | "aac")) => "m4a",
        Some((_, sub)) => sub,
        None => f.rsplit('.').next().unwrap_or_default(),
    };
    if !word.is_empty() && word.len() <= 8 && word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        word.to_string()
    } else {
        "bin".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_become_extensions() {
        assert_eq!(extension_of("audio/webm;codecs=opus"), "webm");
        assert_eq!(extension_of("audio/ogg; codecs=opus"), "ogg");
        assert_eq!(extension_of("audio/mpeg"), "mp3");
        assert_eq!(extension_of("audio/x-wav"), "wav");
        assert_eq!(extension_of("hum.FLAC"), "flac");
        assert_eq!(extension_of("wav"), "wav");
        // Only a safe last word is ever used as an extension.
        assert_eq!(extension_of("../../etc/passwd"), "passwd");
        assert_eq!(extension_of("hum.w v"), "bin");
        assert_eq!(extension_of(""), "bin");
    }

    #[test]
    fn levels() {
        assert_eq!(loudest_level_dbfs(&[0.0; 16000]), -120.0);
        let full: Vec<f32> = (0..16000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!(loudest_level_dbfs(&full).abs() < 0.01);
    }
}
