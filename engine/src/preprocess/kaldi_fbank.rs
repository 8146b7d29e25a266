//! BEATs' input features: `BEATs.preprocess`, i.e. torchaudio's `compliance.kaldi.fbank` on
//! the waveform × 2^15 (povey window, pre-emphasis, DC removal, power spectrum, kaldi mel
//! banks, natural log floored at f32 epsilon, `snip_edges`), normalised
//! `(fbank − mean) / (2 · std)`. Computed in f64 like the reference, then cast to f32.

use rustfft::{num_complex::Complex, FftPlanner};

use super::{pad_to_min_len, BeatsFbankConfig, PreprocessError};

/// Normalised fbank of one audio piece, (frames, num_mel_bins) row-major.
#[derive(Debug, Clone)]
pub struct BeatsFbank {
    pub frames: usize,
    pub num_mel_bins: usize,
    pub values: Vec<f32>,
}

impl BeatsFbank {
    /// BEATs encoder tokens for this fbank (see [`beats_token_count`]).
    pub fn token_count(&self, patch_size: usize) -> usize {
        beats_token_count(self.frames, self.num_mel_bins, patch_size)
    }
}

/// Tokens of BEATs' non-overlapping `patch × patch` conv over a (frames × mel_bins) fbank:
/// `(frames / patch) · (mel_bins / patch)`, e.g. 8·⌊F/16⌋ for 128 bins.
pub fn beats_token_count(frames: usize, mel_bins: usize, patch_size: usize) -> usize {
    if patch_size == 0 {
        return 0;
    }
    (frames / patch_size) * (mel_bins / patch_size)
}

/// Fbank of one audio piece of 16 kHz PCM in [-1, 1] (WAVE feeds BEATs 300 s pieces, see
/// [`super::audio_segments`]); a piece shorter than `cfg.min_samples` is zero-padded first.
pub fn beats_fbank(pcm: &[f32], cfg: &BeatsFbankConfig) -> Result<BeatsFbank, PreprocessError> {
    let win = (cfg.sample_frequency * cfg.frame_length_ms / 1000.0) as usize;
    let shift = (cfg.sample_frequency * cfg.frame_shift_ms / 1000.0) as usize;
    if win < 2 || shift == 0 || cfg.num_mel_bins == 0 {
        return Err(PreprocessError::Setting(
            "fbank frame length/shift/bins".into(),
        ));
    }
    let pcm = pad_to_min_len(pcm, cfg.min_samples);
    if pcm.len() < win {
        return Err(PreprocessError::Input(format!(
            "{} samples are fewer than one {win}-sample fbank frame",
            pcm.len()
        )));
    }
    // snip_edges: only whole frames.
    let frames = 1 + (pcm.len() - win) / shift;
    let n_fft = win.next_power_of_two();
    let n_bins = cfg.num_mel_bins;
    let banks = kaldi_mel_banks(n_bins, n_fft, cfg.sample_frequency, cfg.low_freq);
    let window = povey_window(win);
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
    let mut frame = vec![0.0f64; win];
    let mut power = vec![0.0f64; n_fft / 2 + 1];
    // torch.finfo(torch.float).eps, the floor inside the log.
    let eps = f32::EPSILON as f64;

    let mut values = Vec::with_capacity(frames * n_bins);
    for f in 0..frames {
        for (x, &s) in frame.iter_mut().zip(&pcm[f * shift..f * shift + win]) {
            *x = s as f64 * cfg.wav_scale;
        }
        let mean = frame.iter().sum::<f64>() / win as f64;
        frame.iter_mut().for_each(|x| *x -= mean);
        // Pre-emphasis with the first sample repeated as its own predecessor.
        for i in (1..win).rev() {
            frame[i] -= cfg.preemphasis * frame[i - 1];
        }
        frame[0] -= cfg.preemphasis * frame[0];
        for (i, b) in buf.iter_mut().enumerate() {
            let x = if i < win { frame[i] * window[i] } else { 0.0 };
            *b = Complex::new(x, 0.0);
        }
        fft.process(&mut buf);
        for (p, b) in power.iter_mut().zip(&buf) {
            *p = b.norm_sqr();
        }
        for bank in &banks {
            let energy: f64 = bank
                .weights
                .iter()
                .zip(&power[bank.start..])
                .map(|(w, p)| w * p)
                .sum();
            let log = energy.max(eps).ln();
            values.push(((log - cfg.fbank_mean) / (2.0 * cfg.fbank_std)) as f32);
        }
    }
    Ok(BeatsFbank {
        frames,
        num_mel_bins: n_bins,
        values,
    })
}

/// torchaudio's povey window: the symmetric Hann window raised to 0.85.
fn povey_window(len: usize) -> Vec<f64> {
    let step = 2.0 * std::f64::consts::PI / (len - 1) as f64;
    (0..len)
        .map(|n| (0.5 - 0.5 * (n as f64 * step).cos()).powf(0.85))
        .collect()
}

/// One triangular mel filter over FFT bins `start .. start + weights.len()`.
struct MelBank {
    start: usize,
    weights: Vec<f64>,
}

fn kaldi_mel(hz: f32) -> f32 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// Kaldi mel banks (HTK mel scale, triangles in mel space, low_freq .. Nyquist) over the
/// n_fft/2 lowest bins (the Nyquist bin gets weight 0). torchaudio builds them in f32 and
/// casts to the f64 of the spectrum; the f32 steps are kept so the weights are the same.
fn kaldi_mel_banks(n_bins: usize, n_fft: usize, sample_freq: f64, low_freq: f64) -> Vec<MelBank> {
    let n_fft_bins = n_fft / 2;
    let high_freq = 0.5 * sample_freq;
    let bin_width = (sample_freq / n_fft as f64) as f32;
    let mel_low = 1127.0 * (1.0 + low_freq / 700.0).ln();
    let mel_high = 1127.0 * (1.0 + high_freq / 700.0).ln();
    let delta = ((mel_high - mel_low) / (n_bins as f64 + 1.0)) as f32;
    let mel_low = mel_low as f32;
    let fft_mel: Vec<f32> = (0..n_fft_bins)
        .map(|k| kaldi_mel(bin_width * k as f32))
        .collect();
    (0..n_bins)
        .map(|b| {
            let b = b as f32;
            let left = mel_low + b * delta;
            let centre = mel_low + (b + 1.0) * delta;
            let right = mel_low + (b + 2.0) * delta;
            let w: Vec<f64> = fft_mel
                .iter()
                .map(|&mel| {
                    let up = (mel - left) / (centre - left);
                    let down = (right - mel) / (right - centre);
                    up.min(down).max(0.0) as f64
                })
                .collect();
            let start = w.iter().position(|&x| x != 0.0).unwrap_or(0);
            let end = w.iter().rposition(|&x| x != 0.0).map_or(start, |i| i + 1);
            MelBank {
                start,
                weights: w[start..end].to_vec(),
            }
        })
        .collect()
}
