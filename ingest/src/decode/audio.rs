//! Audio files → 16 kHz mono f32, the rate WAVE's audio front end requires.
//!
//! Symphonia (pure Rust) decodes first; when it does not support the container or codec, or
//! fails on an `.m4a`/`.aac` file (its AAC support is partial), the system ffmpeg decodes
//! instead. Both paths mix to mono the same way and use the same resampler.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::decode::ffmpeg::run_ffmpeg;
use crate::decode::probe::{probe_media, AudioStreamInfo};
use crate::decode::resample::resample;
use crate::decode::sniff::check_binary_media;
use crate::decode::{Limits, TARGET_RATE};
use crate::error::{IngestError, Result};
use crate::kind::extension;

/// Peak level at or below which audio counts as digital silence: -90 dBFS.
pub const SILENCE_PEAK: f32 = 3.162_277_7e-5;

/// How several channels become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelMix {
    /// Mean of all channels (what a listener hears).
    #[default]
    Average,
    /// The first channel only (what the WAVE reference feeds its audio tower).
    First,
}

/// Options of [`decode_audio_with`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AudioOptions {
    pub mix: ChannelMix,
    pub limits: Limits,
}

/// Decoded audio: mono samples at 16 kHz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Mono f32 samples in [-1, 1] at [`TARGET_RATE`] (16 kHz).
    pub pcm_16k: Vec<f32>,
    /// `pcm_16k.len() / 16000` seconds.
    pub duration: f64,
    /// The source's sample rate.
    pub source_rate: u32,
    /// The source's channel count.
    pub source_channels: u16,
    /// Largest absolute sample over all source channels, before mixing and resampling.
    pub peak: f32,
}

impl Audio {
    /// Whether the source is digital silence: every sample of every channel at or below
    /// -90 dBFS (exact zeros included).
    pub fn is_silent(&self) -> bool {
        self.peak <= SILENCE_PEAK
    }

    /// The samples between `start` and `end` seconds (clamped to the audio), e.g. a
    /// [`ClipSpan`](crate::ClipSpan)'s range.
    pub fn between(&self, start: f64, end: f64) -> &[f32] {
        let index =
            |t: f64| ((t.max(0.0) * TARGET_RATE as f64).round() as usize).min(self.pcm_16k.len());
        let (a, b) = (index(start), index(end));
        &self.pcm_16k[a..b.max(a)]
    }
}

/// Decodes an audio file to 16 kHz mono with default options (channel average, 24 h limit).
pub fn decode_audio(path: &Path) -> Result<Audio> {
    decode_audio_with(path, &AudioOptions::default())
}

/// Decodes an audio file to 16 kHz mono.
///
/// Errors (all naming `path`): unreadable or empty file, text content
/// ([`IngestError::WrongContent`]), unparseable data ([`IngestError::Corrupt`]), fewer samples
/// than the container declares ([`IngestError::Truncated`]), no decoder for the codec
/// ([`IngestError::UnsupportedCodec`]), no audio stream, or a duration over
/// `opts.limits.max_duration_s` ([`IngestError::TooLong`]).
pub fn decode_audio_with(path: &Path, opts: &AudioOptions) -> Result<Audio> {
    check_binary_media(path)?;
    let pcm = match decode_symphonia(path, opts) {
        Ok(pcm) => pcm,
        // Without ffmpeg, symphonia's refusal is the answer.
        Err(SymFailure::Unsupported(why)) => decode_ffmpeg(path, opts).map_err(|e| match e {
            IngestError::Ffmpeg { reason, .. } => IngestError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: format!("{why} (no ffmpeg fallback: {reason})"),
            },
            e => e,
        })?,
        Err(SymFailure::Failed(_)) if matches!(extension(path).as_str(), "m4a" | "aac") => {
            decode_ffmpeg(path, opts)?
        }
        Err(SymFailure::Failed(e)) => return Err(e),
    };
    Ok(pcm.finish())
}

/// Mono samples at the source rate, before resampling.
pub(crate) struct MonoPcm {
    pub samples: Vec<f32>,
    pub rate: u32,
    pub channels: u16,
    pub peak: f32,
}

impl MonoPcm {
    pub(crate) fn finish(self) -> Audio {
        let pcm_16k = resample(&self.samples, self.rate, TARGET_RATE);
        Audio {
            duration: pcm_16k.len() as f64 / TARGET_RATE as f64,
            pcm_16k,
            source_rate: self.rate,
            source_channels: self.channels,
            peak: self.peak,
        }
    }

    /// Appends interleaved frames, mixing them to mono and tracking the peak.
    pub(crate) fn push_interleaved(&mut self, samples: &[f32], channels: usize, mix: ChannelMix) {
        if channels == 0 {
            return;
        }
        for frame in samples.chunks_exact(channels) {
            for &s in frame {
                self.peak = self.peak.max(s.abs());
            }
            self.samples.push(match mix {
                ChannelMix::First => frame[0],
                ChannelMix::Average => frame.iter().sum::<f32>() / channels as f32,
            });
        }
    }

    fn duration(&self) -> f64 {
        self.samples.len() as f64 / self.rate.max(1) as f64
    }
}

enum SymFailure {
    /// Symphonia has no reader for the container or no decoder for the codec.
    Unsupported(String),
    /// Symphonia read the file and found it bad.
    Failed(IngestError),
}

fn decode_symphonia(path: &Path, opts: &AudioOptions) -> std::result::Result<MonoPcm, SymFailure> {
    let fail = |e: IngestError| SymFailure::Failed(e);
    let corrupt = |reason: String| {
        SymFailure::Failed(IngestError::Corrupt {
            path: path.to_path_buf(),
            reason,
        })
    };
    let file = File::open(path).map_err(|e| fail(IngestError::io(path, e)))?;
    let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    hint.with_extension(&extension(path));
    let mut format = match symphonia::default::get_probe().probe(
        &hint,
        mss,
        FormatOptions::default(),
        MetadataOptions::default(),
    ) {
        Ok(f) => f,
        Err(SymError::Unsupported(what)) => return Err(SymFailure::Unsupported(what.into())),
        Err(e) => return Err(classify(path, e, Stage::Header)),
    };
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| SymFailure::Unsupported("no audio track symphonia can decode".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| SymFailure::Unsupported("no audio codec parameters".into()))?
        .clone();
    let declared = track.num_frames;
    let rate = params
        .sample_rate
        .ok_or_else(|| corrupt("audio track without a sample rate".into()))?;
    let channels = params.channels.as_ref().map_or(0, |c| c.count()) as u16;
    let max_s = opts.limits.max_duration_s;
    if let Some(n) = declared {
        check_duration(path, n as f64 / rate as f64, max_s).map_err(fail)?;
    }
    let mut decoder = match symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
    {
        Ok(d) => d,
        Err(SymError::Unsupported(what)) => return Err(SymFailure::Unsupported(what.into())),
        Err(e) => return Err(classify(path, e, Stage::Header)),
    };

    let mut pcm = MonoPcm {
        samples: Vec::new(),
        rate,
        channels,
        peak: 0.0,
    };
    let mut interleaved: Vec<f32> = Vec::new();
    let (mut packets, mut bad_packets) = (0usize, 0usize);
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(classify(path, e, Stage::Packets)),
        };
        if packet.track_id != track_id {
            continue;
        }
        packets += 1;
        match decoder.decode(&packet) {
            Ok(buf) => {
                let ch = buf.spec().channels().count();
                buf.copy_to_vec_interleaved(&mut interleaved);
                pcm.push_interleaved(&interleaved, ch, opts.mix);
                if pcm.channels == 0 {
                    pcm.channels = ch as u16;
                }
            }
            // A damaged packet is skipped (a player would do the same); many of them mean
            // the file is corrupt, judged below.
            Err(SymError::DecodeError(_)) => bad_packets += 1,
            Err(SymError::Unsupported(what)) => return Err(SymFailure::Unsupported(what.into())),
            Err(e) => return Err(classify(path, e, Stage::Packets)),
        }
        check_duration(path, pcm.duration(), max_s).map_err(fail)?;
    }
    if pcm.samples.is_empty() {
        return Err(corrupt(format!(
            "no audio decoded ({packets} packets, {bad_packets} undecodable)"
        )));
    }
    if bad_packets * 20 > packets {
        return Err(corrupt(format!(
            "{bad_packets} of {packets} packets could not be decoded"
        )));
    }
    if let Some(n) = declared {
        check_complete(
            path,
            pcm.samples.len() as f64 / rate as f64,
            n as f64 / rate as f64,
        )
        .map_err(fail)?;
    }
    Ok(pcm)
}

/// Where in the file a symphonia error happened.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// Container and stream headers.
    Header,
    /// Audio packets.
    Packets,
}

/// Maps a symphonia error to an ingest error. Running out of data among the packets means
/// the file was cut short; in the headers it means a header points past the end of the file.
fn classify(path: &Path, e: SymError, stage: Stage) -> SymFailure {
    let path_buf = path.to_path_buf();
    SymFailure::Failed(match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            if stage == Stage::Packets {
                IngestError::Truncated {
                    path: path_buf,
                    reason: "the stream ends in the middle of a packet".into(),
                }
            } else {
                IngestError::Corrupt {
                    path: path_buf,
                    reason: "a header points past the end of the file".into(),
                }
            }
        }
        SymError::IoError(io) => IngestError::io(path, io),
        SymError::Unsupported(what) => IngestError::UnsupportedCodec {
            path: path_buf,
            codec: what.into(),
        },
        other => IngestError::Corrupt {
            path: path_buf,
            reason: other.to_string(),
        },
    })
}

/// Decodes the first audio stream with ffmpeg, at the source rate, all channels.
fn decode_ffmpeg(path: &Path, opts: &AudioOptions) -> Result<MonoPcm> {
    let info = probe_media(path)?;
    let stream = info
        .audio
        .as_ref()
        .ok_or_else(|| IngestError::MissingStream {
            path: path.to_path_buf(),
            what: "audio",
        })?;
    let declared = stream.duration.or(info.duration);
    if let Some(d) = declared {
        check_duration(path, d, opts.limits.max_duration_s)?;
    }
    let pcm = ffmpeg_audio_track(path, stream, opts.mix, &[])?;
    check_duration(path, pcm.duration(), opts.limits.max_duration_s)?;
    if let Some(d) = declared {
        check_complete(path, pcm.duration(), d)?;
    }
    Ok(pcm)
}

/// Decodes the first audio stream of `path` with ffmpeg into mono at the stream's rate.
/// `pre_input` goes before `-i` (e.g. a seek).
pub(crate) fn ffmpeg_audio_track(
    path: &Path,
    stream: &AudioStreamInfo,
    mix: ChannelMix,
    pre_input: &[String],
) -> Result<MonoPcm> {
    if stream.codec.is_none() {
        return Err(IngestError::UnsupportedCodec {
            path: path.to_path_buf(),
            codec: format!("unknown audio codec (tag {:?})", stream.codec_tag),
        });
    }
    if stream.sample_rate == 0 || stream.channels == 0 {
        return Err(IngestError::Corrupt {
            path: path.to_path_buf(),
            reason: "audio stream without sample rate or channels".into(),
        });
    }
    let args: Vec<String> = ["-map", "0:a:0", "-vn", "-sn", "-dn", "-c:a", "pcm_f32le"]
        .iter()
        .map(|s| s.to_string())
        .chain([
            "-ar".into(),
            stream.sample_rate.to_string(),
            "-ac".into(),
            stream.channels.to_string(),
            "-f".into(),
            "f32le".into(),
            "-".into(),
        ])
        .collect();
    let run = run_ffmpeg(path, pre_input, &args)?;
    if !run.success {
        return Err(run.failure(path));
    }
    let samples: Vec<f32> = run
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut pcm = MonoPcm {
        samples: Vec::with_capacity(samples.len() / stream.channels as usize),
        rate: stream.sample_rate,
        channels: stream.channels,
        peak: 0.0,
    };
    pcm.push_interleaved(&samples, stream.channels as usize, mix);
    Ok(pcm)
}

/// [`IngestError::TooLong`] when `duration_s` exceeds `max_s`.
pub(crate) fn check_duration(path: &Path, duration_s: f64, max_s: f64) -> Result<()> {
    if duration_s > max_s {
        return Err(IngestError::TooLong {
            path: path.to_path_buf(),
            duration_s,
            max_s,
        });
    }
    Ok(())
}

/// [`IngestError::Truncated`] when the decoded length falls short of the declared one by more
/// than half a second or 2 % (encoder padding and container rounding stay well inside that).
pub(crate) fn check_complete(path: &Path, decoded_s: f64, declared_s: f64) -> Result<()> {
    let tolerance = (declared_s * 0.02).max(0.5);
    if decoded_s + tolerance < declared_s {
        return Err(IngestError::Truncated {
            path: path.to_path_buf(),
            reason: format!(
                "decoded {decoded_s:.2} s of the {declared_s:.2} s the container declares"
            ),
        });
    }
    Ok(())
}
