//! Audio at other sample rates to the 16 kHz mono the model expects (WAVE itself asserts
//! 16 kHz input; this is our extension). Band-limited resampling with a Kaiser-windowed sinc:
//! the input-to-output ratio is reduced to p/q and one filter per output phase is precomputed
//! (polyphase), so the cost is one short dot product per output sample.

use super::PreprocessError;

/// The sample rate of every model input.
pub const TARGET_SAMPLE_RATE: u32 = 16000;

/// Zero crossings of the sinc on each side of the centre (filter quality vs. cost).
const ZERO_CROSSINGS: f64 = 32.0;
/// Passband edge as a fraction of the lower Nyquist frequency (keeps aliasing out).
const ROLLOFF: f64 = 0.945;
/// Kaiser shape: about 90 dB stopband attenuation.
const KAISER_BETA: f64 = 8.6;

/// WAVE reads the first channel of multi-channel audio (`audio[:, 0]`), not a downmix.
pub fn first_channel(interleaved: &[f32], channels: usize) -> Result<Vec<f32>, PreprocessError> {
    if channels == 0 || !interleaved.len().is_multiple_of(channels) {
        return Err(PreprocessError::Input(format!(
            "{} interleaved samples do not split into {channels} channels",
            interleaved.len()
        )));
    }
    Ok(interleaved.iter().step_by(channels).copied().collect())
}

/// Mono PCM at `sample_rate` resampled to 16 kHz; output length round(n · 16000 / rate).
/// 16 kHz input is returned unchanged.
pub fn resample_to_16k(pcm: &[f32], sample_rate: u32) -> Result<Vec<f32>, PreprocessError> {
    if sample_rate == 0 {
        return Err(PreprocessError::Input("sample rate 0".into()));
    }
    if sample_rate == TARGET_SAMPLE_RATE {
        return Ok(pcm.to_vec());
    }
    let g = gcd(sample_rate as u64, TARGET_SAMPLE_RATE as u64);
    // Output sample j sits at input time j · step_num / phases.
    let step_num = sample_rate as u64 / g;
    let phases = TARGET_SAMPLE_RATE as u64 / g;
    let n_out = ((pcm.len() as u64 * TARGET_SAMPLE_RATE as u64 + sample_rate as u64 / 2)
        / sample_rate as u64) as usize;

    // Cutoff in cycles per input sample (relative to the input Nyquist).
    let cutoff = ROLLOFF * (TARGET_SAMPLE_RATE as f64 / sample_rate as f64).min(1.0);
    let half_width = (ZERO_CROSSINGS / cutoff).ceil() as i64;
    let taps = (2 * half_width) as usize;
    let bank = filter_bank(phases as usize, half_width, cutoff);

    let mut out = Vec::with_capacity(n_out);
    for j in 0..n_out as u64 {
        let pos = j * step_num;
        let base = (pos / phases) as i64;
        let phase = (pos % phases) as usize;
        let filter = &bank[phase * taps..(phase + 1) * taps];
        // Taps cover input samples base - half_width + 1 ..= base + half_width.
        let first = base - half_width + 1;
        let mut acc = 0.0f64;
        for (k, &w) in filter.iter().enumerate() {
            let i = first + k as i64;
            if i >= 0 && (i as usize) < pcm.len() {
                acc += w * pcm[i as usize] as f64;
            }
        }
        out.push(acc as f32);
    }
    Ok(out)
}

/// Filters per phase φ/phases: h(d) = c·sinc(c·d)·kaiser(d / half_width) at the distances d of
/// the taps, each phase normalised to unit DC gain.
fn filter_bank(phases: usize, half_width: i64, cutoff: f64) -> Vec<f64> {
    let taps = (2 * half_width) as usize;
    let i0_beta = bessel_i0(KAISER_BETA);
    let mut bank = Vec::with_capacity(phases * taps);
    for phase in 0..phases {
        let frac = phase as f64 / phases as f64;
        let start = bank.len();
        for k in 0..taps as i64 {
            // Distance from the output instant (base + frac) to input sample base - hw + 1 + k.
            let d = frac + (half_width - 1 - k) as f64;
            let x = d / half_width as f64;
            let w = if x.abs() >= 1.0 {
                0.0
            } else {
                bessel_i0(KAISER_BETA * (1.0 - x * x).sqrt()) / i0_beta
            };
            bank.push(cutoff * sinc(cutoff * d) * w);
        }
        let sum: f64 = bank[start..].iter().sum();
        bank[start..].iter_mut().for_each(|w| *w /= sum);
    }
    bank
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
