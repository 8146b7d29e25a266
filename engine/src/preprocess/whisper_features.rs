//! Whisper log-mel features of one audio segment, with the semantics of transformers'
//! WhisperFeatureExtractor called as WAVE does (`padding="max_length"`, 300 s window):
//! periodic Hann, centred STFT with reflect padding, power spectrum, slaney mel filters,
//! log10 clamped at 1e-10, floor at (global max − 8), then (x + 4) / 4.
//!
//! The segment is conceptually zero-padded to `n_samples` (4.8 M); the global max runs over
//! that whole window. Only frames that see audio are computed: every other frame is all
//! zeros and equals the constant [`WhisperFeatures::pad_value`]. Arithmetic is f64 (the
//! reference is f32; the difference is at f32 rounding level).

use rustfft::{num_complex::Complex, FftPlanner};

use super::{pad_to_min_len, slaney_mel_filters, PreprocessError, WhisperConfig};

/// Log-mel features of one segment over the full `max_length` window.
#[derive(Debug, Clone)]
pub struct WhisperFeatures {
    pub n_mels: usize,
    /// L = ceil(samples / hop): frames the attention mask marks valid (what the model uses).
    pub valid_frames: usize,
    /// Frames of the full window (`nb_max_frames`, 30000).
    pub total_frames: usize,
    /// Value of every frame that sees only padding zeros (all frames from L + 2 on).
    pub pad_value: f32,
    /// (n_mels, computed_frames) row-major; frames at or after `computed_frames` equal `pad_value`.
    computed: Vec<f32>,
    computed_frames: usize,
}

impl WhisperFeatures {
    /// The valid frames, (n_mels, valid_frames) row-major: the audio tower's input.
    pub fn valid(&self) -> Vec<f32> {
        self.frames(0, self.valid_frames)
    }

    /// Frames `start .. start + count` of the full window, (n_mels, count) row-major.
    pub fn frames(&self, start: usize, count: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.n_mels * count);
        for m in 0..self.n_mels {
            let row = &self.computed[m * self.computed_frames..(m + 1) * self.computed_frames];
            out.extend(
                (start..start + count).map(|t| row.get(t).copied().unwrap_or(self.pad_value)),
            );
        }
        out
    }

    /// Whisper audio-tower tokens of this segment (see [`whisper_token_count`]).
    pub fn token_count(&self) -> usize {
        whisper_token_count(self.valid_frames)
    }
}

/// Audio-tower output tokens for L mel frames: the conv stride-2 then the 2x avg-pool,
/// `((L - 1) // 2 + 1 - 2) // 2 + 1` with Python floor division (0 when negative).
pub fn whisper_token_count(mel_frames: usize) -> usize {
    let after_conv = (mel_frames as i64 - 1).div_euclid(2) + 1;
    let tokens = (after_conv - 2).div_euclid(2) + 1;
    tokens.max(0) as usize
}

/// Features of one segment of 16 kHz PCM (at most `cfg.n_samples` samples; split longer audio
/// with [`super::audio_segments`]). A segment shorter than `cfg.min_samples` is zero-padded
/// first, as WAVE's `process_audio` does, so `valid_frames` counts the padded length.
pub fn whisper_features(
    pcm: &[f32],
    cfg: &WhisperConfig,
) -> Result<WhisperFeatures, PreprocessError> {
    if pcm.len() > cfg.n_samples {
        return Err(PreprocessError::Input(format!(
            "audio segment of {} samples exceeds the {}-sample window; split it first",
            pcm.len(),
            cfg.n_samples
        )));
    }
    if cfg.n_fft < 2 || cfg.hop_length == 0 || cfg.n_samples < cfg.n_fft {
        return Err(PreprocessError::Setting(
            "whisper n_fft/hop/n_samples".into(),
        ));
    }
    let pcm = pad_to_min_len(pcm, cfg.min_samples);
    let len = pcm.len();
    let (n_fft, hop, n_samples) = (cfg.n_fft, cfg.hop_length, cfg.n_samples);
    let pad = n_fft / 2;
    // torch.stft(center=True) yields 1 + n_samples / hop frames; the extractor drops the last.
    let total_frames = n_samples / hop;
    let valid_frames = len.div_ceil(hop).min(total_frames);
    // Frames whose window starts before the end of the audio see samples; later ones see
    // zeros only, unless the window's right reflection reaches back into the audio.
    let touching = (len + pad).div_ceil(hop);
    let computed_frames = if len + n_fft >= n_samples {
        total_frames
    } else {
        touching.max(valid_frames).min(total_frames)
    };

    // Sample i of the zero-padded window, reflected at both window edges.
    let sample = |i: isize| -> f64 {
        let n = n_samples as isize;
        let j = if i < 0 {
            -i
        } else if i >= n {
            2 * (n - 1) - i
        } else {
            i
        } as usize;
        pcm.get(j).copied().unwrap_or(0.0) as f64
    };

    let window: Vec<f64> = (0..n_fft)
        .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / n_fft as f64).cos())
        .collect();
    let n_freqs = n_fft / 2 + 1;
    let filters = slaney_mel_filters(
        cfg.feature_size,
        n_fft,
        cfg.sampling_rate as f64,
        cfg.max_frequency,
    );
    let bands = nonzero_bands(&filters, cfg.feature_size, n_freqs);
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
    let mut power = vec![0.0f64; n_freqs];

    // log10 mel energies, (n_mels, computed_frames).
    let n_mels = cfg.feature_size;
    let mut log_mel = vec![0.0f64; n_mels * computed_frames];
    for t in 0..computed_frames {
        let start = (t * hop) as isize - pad as isize;
        for (n, b) in buf.iter_mut().enumerate() {
            *b = Complex::new(sample(start + n as isize) * window[n], 0.0);
        }
        fft.process(&mut buf);
        for (p, b) in power.iter_mut().zip(&buf) {
            *p = b.norm_sqr();
        }
        for (m, &(lo, hi)) in bands.iter().enumerate() {
            let row = &filters[m * n_freqs..(m + 1) * n_freqs];
            let energy: f64 = (lo..hi).map(|f| row[f] * power[f]).sum();
            log_mel[m * computed_frames + t] = energy.max(1e-10).log10();
        }
    }

    // Frames not computed are all zeros: log10(1e-10) = -10, never above the max of the rest.
    let global_max = log_mel.iter().copied().fold(-10.0f64, f64::max);
    let floor = global_max - 8.0;
    let scale = |v: f64| ((v.max(floor) + 4.0) / 4.0) as f32;
    Ok(WhisperFeatures {
        n_mels,
        valid_frames,
        total_frames,
        pad_value: scale(-10.0),
        computed: log_mel.into_iter().map(scale).collect(),
        computed_frames,
    })
}

/// Per mel filter, the half-open range of frequency bins where it is nonzero.
fn nonzero_bands(filters: &[f64], n_mels: usize, n_freqs: usize) -> Vec<(usize, usize)> {
    (0..n_mels)
        .map(|m| {
            let row = &filters[m * n_freqs..(m + 1) * n_freqs];
            let lo = row.iter().position(|&w| w != 0.0).unwrap_or(0);
            let hi = row.iter().rposition(|&w| w != 0.0).map_or(lo, |i| i + 1);
            (lo, hi)
        })
        .collect()
}
