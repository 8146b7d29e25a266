//! The windowed-sinc resampler: accuracy in the passband, rejection above the new Nyquist.

mod common;

use common::{rms, tone_amplitude};
use wave_ingest::resample;

fn sine(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
    let n = (rate as f64 * secs) as usize;
    (0..n)
        .map(|i| (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin()) as f32)
        .collect()
}

#[test]
fn passband_tone_matches_the_ideal_resampled_signal() {
    for (from, freq) in [
        (44_100u32, 1000.0),
        (48_000, 3000.0),
        (22_050, 440.0),
        (8_000, 2500.0),
    ] {
        let out = resample(&sine(freq, from, 1.0), from, 16_000);
        assert_eq!(out.len(), 16_000, "from {from}");
        let ideal = sine(freq, 16_000, 1.0);
        // Away from the edges (where the kernel runs off the signal) the error is tiny.
        let max_err = out[400..15_600]
            .iter()
            .zip(&ideal[400..15_600])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            max_err < 2e-3,
            "{freq} Hz from {from} Hz: max error {max_err}"
        );
    }
}

#[test]
fn content_above_the_new_nyquist_is_removed() {
    // 10 kHz and 12 kHz would alias to 6 kHz and 4 kHz at 16 kHz.
    for freq in [10_000.0, 12_000.0] {
        let out = resample(&sine(freq, 48_000, 1.0), 48_000, 16_000);
        let level = rms(&out[400..15_600]);
        assert!(level < 0.5 * 1e-3, "{freq} Hz leaks at rms {level}");
        let alias = tone_amplitude(&out[400..15_600], 16_000.0, 16_000.0 - freq);
        assert!(alias < 1e-3, "{freq} Hz aliases with amplitude {alias}");
    }
}

#[test]
fn identity_empty_and_length_rules() {
    let x = sine(440.0, 16_000, 0.1);
    assert_eq!(resample(&x, 16_000, 16_000), x);
    assert!(resample(&[], 44_100, 16_000).is_empty());
    assert!(resample(&x, 0, 16_000).is_empty());
    // round(len · to / from)
    assert_eq!(resample(&vec![0.0; 441], 44_100, 16_000).len(), 160);
    assert_eq!(resample(&[0.0; 3], 48_000, 16_000).len(), 1);
    // Upsampling keeps a DC level.
    let up = resample(&vec![0.25; 8000], 8_000, 16_000);
    assert_eq!(up.len(), 16_000);
    assert!(up[1000..15_000].iter().all(|v| (v - 0.25).abs() < 1e-3));
}
