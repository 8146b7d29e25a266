//! Slaney-style mel filter bank, as transformers' `mel_filter_bank(norm="slaney",
//! mel_scale="slaney")` builds it for the WhisperFeatureExtractor (computed in f64).

/// Hz -> mel on the Slaney scale: linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let min_log_hz = 1000.0;
    let min_log_mel = 15.0;
    let logstep = 27.0 / 6.4f64.ln();
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() * logstep
    } else {
        3.0 * hz / 200.0
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let min_log_hz = 1000.0;
    let min_log_mel = 15.0;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        200.0 * mel / 3.0
    }
}

/// numpy.linspace(start, stop, num) with endpoint: `i * step + start`, last value exactly `stop`.
pub(crate) fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    if let Some(last) = v.last_mut() {
        *last = stop;
    }
    v
}

/// Filters as `(n_mels, n_freq_bins)` row-major, where `n_freq_bins = n_fft / 2 + 1`.
/// Each triangle spans neighbouring mel centres (0 Hz .. `max_hz`), scaled by
/// 2 / (band width in Hz) so every filter has about equal energy.
pub fn slaney_mel_filters(n_mels: usize, n_fft: usize, sample_rate: f64, max_hz: f64) -> Vec<f64> {
    let n_freqs = n_fft / 2 + 1;
    let mel_points = linspace(hz_to_mel(0.0), hz_to_mel(max_hz), n_mels + 2);
    let filter_hz: Vec<f64> = mel_points.into_iter().map(mel_to_hz).collect();
    // transformers spaces the FFT bins over [0, sampling_rate // 2].
    let fft_hz = linspace(0.0, (sample_rate / 2.0).floor(), n_freqs);
    let mut filters = vec![0.0; n_mels * n_freqs];
    for m in 0..n_mels {
        let (lo, centre, hi) = (filter_hz[m], filter_hz[m + 1], filter_hz[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for (f, &hz) in fft_hz.iter().enumerate() {
            let down = -(lo - hz) / (centre - lo);
            let up = (hi - hz) / (hi - centre);
            filters[m * n_freqs + f] = down.min(up).max(0.0) * enorm;
        }
    }
    filters
}
