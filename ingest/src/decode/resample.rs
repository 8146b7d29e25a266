//! Band-limited resampling (windowed sinc) of mono f32 audio, any rate to any rate.
//!
//! Each output sample is a convolution of the input with a Kaiser-windowed sinc low-pass
//! centred on the output instant. The cutoff sits just below the lower of the two Nyquist
//! frequencies, so downsampling (48 kHz → 16 kHz) removes what would alias. The kernel is
//! tabulated finely once and linearly interpolated, which works for any rate pair (44.1 kHz,
//! 22.05 kHz, odd rates) without a per-ratio table.

/// Zero crossings of the sinc kept on each side: sets the transition band width.
const ZERO_CROSSINGS: usize = 24;
/// Table points per zero crossing (interpolation error stays far below the stopband level).
const OVERSAMPLE: usize = 512;
/// Cutoff as a fraction of the lower Nyquist frequency: a narrow guard band against aliasing.
const ROLLOFF: f64 = 0.94;
/// Kaiser window shape: about 85 dB of stopband attenuation.
const KAISER_BETA: f64 = 8.5;

/// Resamples `input` from `from_hz` to `to_hz`. Equal rates return a copy; an empty input or
/// a zero rate returns an empty vector. The output has `round(len · to / from)` samples, the
/// n-th lying at input time `n / to_hz` seconds.
pub fn resample(input: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    if input.is_empty() || from_hz == 0 || to_hz == 0 {
        return Vec::new();
    }
    if from_hz == to_hz {
        return input.to_vec();
    }
    let kernel = Kernel::new();
    // Cutoff in cycles per input sample, relative to the input Nyquist (1.0 = input Nyquist).
    let cutoff = ROLLOFF * (to_hz as f64 / from_hz as f64).min(1.0);
    // The kernel spans ZERO_CROSSINGS zero crossings of sinc(cutoff · x) on each side.
    let half_width = ZERO_CROSSINGS as f64 / cutoff;
    let out_len =
        ((input.len() as u128 * to_hz as u128 + from_hz as u128 / 2) / from_hz as u128) as usize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        // Exact input position of output sample n, split to keep f64 precision on long audio.
        let num = n as u64 * from_hz as u64;
        let base = (num / to_hz as u64) as i64;
        let frac = (num % to_hz as u64) as f64 / to_hz as f64;
        let lo = (base as f64 + frac - half_width).ceil() as i64;
        let hi = (base as f64 + frac + half_width).floor() as i64;
        let mut acc = 0.0f64;
        for i in lo.max(0)..=hi.min(input.len() as i64 - 1) {
            let x = (i - base) as f64 - frac;
            acc += input[i as usize] as f64 * kernel.at(x * cutoff);
        }
        out.push((acc * cutoff) as f32);
    }
    out
}

/// sinc(u) · kaiser(u / ZERO_CROSSINGS) tabulated for u ≥ 0 (it is symmetric).
struct Kernel {
    table: Vec<f64>,
}

impl Kernel {
    fn new() -> Self {
        let len = ZERO_CROSSINGS * OVERSAMPLE + 2;
        let norm = bessel_i0(KAISER_BETA);
        let table = (0..len)
            .map(|k| {
                let u = k as f64 / OVERSAMPLE as f64;
                let r = u / ZERO_CROSSINGS as f64;
                if r >= 1.0 {
                    return 0.0;
                }
                let sinc = if u == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * u).sin() / (std::f64::consts::PI * u)
                };
                sinc * bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / norm
            })
            .collect();
        Kernel { table }
    }

    /// The kernel at `u` zero crossings from its centre (linear interpolation in the table).
    fn at(&self, u: f64) -> f64 {
        let pos = u.abs() * OVERSAMPLE as f64;
        let k = pos as usize;
        if k + 1 >= self.table.len() {
            return 0.0;
        }
        let t = pos - k as f64;
        self.table[k] * (1.0 - t) + self.table[k + 1] * t
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for the
/// small arguments a Kaiser window uses).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}
