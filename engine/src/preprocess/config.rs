//! Preprocessing settings: read from a model directory's `preprocessor_config.json` and
//! `preprocessor_runtime.json` where they exist, WAVE's evaluation settings otherwise.

use std::path::Path;

use serde_json::Value;

use super::PreprocessError;

/// WhisperFeatureExtractor settings (Qwen2.5-Omni ships 128 bins, 300 s windows).
#[derive(Debug, Clone, PartialEq)]
pub struct WhisperConfig {
    pub feature_size: usize,
    pub sampling_rate: usize,
    pub n_fft: usize,
    pub hop_length: usize,
    /// Samples of one `max_length` window (chunk_length * sampling_rate).
    pub n_samples: usize,
    /// Highest mel filter frequency; transformers hard-codes 8 kHz for Whisper.
    pub max_frequency: f64,
    /// Audio shorter than this is zero-padded first (WAVE pads every segment to 1 s).
    pub min_samples: usize,
}

impl Default for WhisperConfig {
    fn default() -> Self {
        WhisperConfig {
            feature_size: 128,
            sampling_rate: 16000,
            n_fft: 400,
            hop_length: 160,
            n_samples: 4_800_000,
            max_frequency: 8000.0,
            min_samples: 16000,
        }
    }
}

impl WhisperConfig {
    /// Frames of the full `max_length` window (`nb_max_frames`).
    pub fn max_frames(&self) -> usize {
        self.n_samples / self.hop_length
    }
}

/// BEATs' kaldi fbank front end (`BEATs.preprocess`; constants are its defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct BeatsFbankConfig {
    pub num_mel_bins: usize,
    pub sample_frequency: f64,
    pub frame_length_ms: f64,
    pub frame_shift_ms: f64,
    pub low_freq: f64,
    pub preemphasis: f64,
    /// The waveform is scaled by this before the fbank (int16 range).
    pub wav_scale: f64,
    pub fbank_mean: f64,
    pub fbank_std: f64,
    /// Each audio piece is zero-padded to at least this many samples.
    pub min_samples: usize,
}

impl Default for BeatsFbankConfig {
    fn default() -> Self {
        BeatsFbankConfig {
            num_mel_bins: 128,
            sample_frequency: 16000.0,
            frame_length_ms: 25.0,
            frame_shift_ms: 10.0,
            low_freq: 20.0,
            preemphasis: 0.97,
            wav_scale: 32768.0,
            fbank_mean: 15.41663,
            fbank_std: 6.55582,
            min_samples: 16000,
        }
    }
}

/// Qwen2VLImageProcessor settings as WAVE's evaluation runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageProcessorConfig {
    pub patch_size: usize,
    pub temporal_patch_size: usize,
    pub merge_size: usize,
    pub min_pixels: usize,
    pub max_pixels: usize,
    pub rescale_factor: f64,
    /// Kept in f64 as in the JSON; numpy casts them to f32 when normalising.
    pub image_mean: [f64; 3],
    pub image_std: [f64; 3],
}

impl Default for ImageProcessorConfig {
    fn default() -> Self {
        ImageProcessorConfig {
            patch_size: 14,
            temporal_patch_size: 2,
            merge_size: 2,
            // WAVE's eval overrides the shipped 3136 / 12845056 with these.
            min_pixels: 784,
            max_pixels: 176_400,
            rescale_factor: 1.0 / 255.0,
            image_mean: [0.48145466, 0.4578275, 0.40821073],
            image_std: [0.26862954, 0.26130258, 0.27577711],
        }
    }
}

impl ImageProcessorConfig {
    /// smart_resize's factor: both output sides are multiples of this.
    pub fn factor(&self) -> usize {
        self.patch_size * self.merge_size
    }
}

/// `video_decord` sampling: one frame per `base_interval_s`, clamped to [min, max] frames.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSamplingConfig {
    pub base_interval_s: f64,
    pub min_frames: usize,
    pub max_frames: usize,
}

impl Default for VideoSamplingConfig {
    fn default() -> Self {
        VideoSamplingConfig {
            base_interval_s: 0.5,
            min_frames: 1,
            max_frames: 128,
        }
    }
}

impl VideoSamplingConfig {
    /// Frames per second this sampling takes (1 / `base_interval_s`): the rate callers that
    /// decode video themselves (ingest, search, training) should sample at.
    pub fn fps(&self) -> f64 {
        1.0 / self.base_interval_s
    }
}

/// All preprocessing settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreprocessConfig {
    pub whisper: WhisperConfig,
    pub beats: BeatsFbankConfig,
    pub image: ImageProcessorConfig,
    pub sampling: VideoSamplingConfig,
}

impl PreprocessConfig {
    /// Settings of a model directory: `preprocessor_config.json` (as shipped) overlaid by
    /// `preprocessor_runtime.json` (effective settings of WAVE's eval). Missing files or fields
    /// keep WAVE's defaults. The shipped file's min/max_pixels are ignored: WAVE always
    /// overrides them (784 / 176400) unless the runtime file says otherwise.
    pub fn from_model_dir(dir: &Path) -> Result<Self, PreprocessError> {
        let mut cfg = PreprocessConfig::default();
        if let Some(shipped) = read_json(&dir.join("preprocessor_config.json"))? {
            cfg.apply_feature_extractor(&shipped.1, &shipped.0)?;
            cfg.apply_image_processor(&shipped.1, &shipped.0, false)?;
        }
        if let Some((path, runtime)) = read_json(&dir.join("preprocessor_runtime.json"))? {
            if let Some(fe) = runtime.get("feature_extractor_effective") {
                cfg.apply_feature_extractor(fe, &path)?;
            }
            for key in [
                "image_processor_effective",
                "image_processor_runtime_overrides_in_wave_eval",
            ] {
                if let Some(ip) = runtime.get(key) {
                    cfg.apply_image_processor(ip, &path, true)?;
                }
            }
            if let Some(vs) = runtime.get("video_sampling") {
                let s = &mut cfg.sampling;
                set_f64(vs, "base_interval_s", &mut s.base_interval_s, &path)?;
                set_usize(vs, "video_min_frames", &mut s.min_frames, &path)?;
                set_usize(vs, "video_max_frames", &mut s.max_frames, &path)?;
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn apply_feature_extractor(&mut self, v: &Value, path: &Path) -> Result<(), PreprocessError> {
        let w = &mut self.whisper;
        set_usize(v, "feature_size", &mut w.feature_size, path)?;
        set_usize(v, "sampling_rate", &mut w.sampling_rate, path)?;
        set_usize(v, "n_fft", &mut w.n_fft, path)?;
        set_usize(v, "hop_length", &mut w.hop_length, path)?;
        set_usize(v, "n_samples", &mut w.n_samples, path)?;
        if let Some(dither) = v.get("dither").and_then(Value::as_f64) {
            if dither != 0.0 {
                return Err(config_err(path, "dither != 0 is not supported"));
            }
        }
        Ok(())
    }

    fn apply_image_processor(
        &mut self,
        v: &Value,
        path: &Path,
        take_pixels: bool,
    ) -> Result<(), PreprocessError> {
        let im = &mut self.image;
        set_usize(v, "patch_size", &mut im.patch_size, path)?;
        set_usize(v, "temporal_patch_size", &mut im.temporal_patch_size, path)?;
        set_usize(v, "merge_size", &mut im.merge_size, path)?;
        set_f64(v, "rescale_factor", &mut im.rescale_factor, path)?;
        set_triple(v, "image_mean", &mut im.image_mean, path)?;
        set_triple(v, "image_std", &mut im.image_std, path)?;
        if take_pixels {
            set_usize(v, "min_pixels", &mut im.min_pixels, path)?;
            set_usize(v, "max_pixels", &mut im.max_pixels, path)?;
            // The processor reads size{shortest_edge,longest_edge}; they win when present.
            if let Some(size) = v.get("size") {
                set_usize(size, "shortest_edge", &mut im.min_pixels, path)?;
                set_usize(size, "longest_edge", &mut im.max_pixels, path)?;
            }
        }
        if let Some(resample) = v.get("resample").and_then(Value::as_u64) {
            // 3 = PIL BICUBIC, the only filter implemented.
            if resample != 3 {
                return Err(config_err(path, "only resample = 3 (bicubic) is supported"));
            }
        }
        for key in ["do_resize", "do_rescale", "do_normalize"] {
            if v.get(key).and_then(Value::as_bool) == Some(false) {
                return Err(config_err(path, &format!("{key} = false is not supported")));
            }
        }
        Ok(())
    }

    /// Rejects settings the functions cannot run with (zero sizes, zero std).
    pub fn validate(&self) -> Result<(), PreprocessError> {
        let w = &self.whisper;
        let im = &self.image;
        let s = &self.sampling;
        let bad = |m: &str| Err(PreprocessError::Setting(m.to_string()));
        if w.feature_size == 0 || w.n_fft < 2 || w.hop_length == 0 || w.n_samples < w.n_fft {
            return bad("whisper sizes must be positive and n_samples >= n_fft");
        }
        if w.sampling_rate == 0 {
            return bad("whisper sampling_rate must be positive");
        }
        if self.beats.num_mel_bins == 0 || self.beats.fbank_std == 0.0 {
            return bad("beats fbank needs mel bins and a nonzero std");
        }
        if im.patch_size == 0 || im.temporal_patch_size == 0 || im.merge_size == 0 {
            return bad("image patch sizes must be positive");
        }
        if im.image_std.contains(&0.0) {
            return bad("image_std must be nonzero");
        }
        if s.base_interval_s.is_nan()
            || s.base_interval_s <= 0.0
            || s.max_frames == 0
            || s.min_frames > s.max_frames
        {
            return bad("video sampling needs interval > 0 and 0 < min_frames <= max_frames");
        }
        Ok(())
    }
}

fn read_json(path: &Path) -> Result<Option<(std::path::PathBuf, Value)>, PreprocessError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|source| PreprocessError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value = serde_json::from_str(&text).map_err(|e| config_err(path, &e.to_string()))?;
    Ok(Some((path.to_path_buf(), value)))
}

fn config_err(path: &Path, message: &str) -> PreprocessError {
    PreprocessError::Config {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn set_usize(v: &Value, key: &str, out: &mut usize, path: &Path) -> Result<(), PreprocessError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(x) => {
            *out = x.as_u64().ok_or_else(|| {
                config_err(path, &format!("`{key}` must be a non-negative integer"))
            })? as usize;
            Ok(())
        }
    }
}

fn set_f64(v: &Value, key: &str, out: &mut f64, path: &Path) -> Result<(), PreprocessError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(x) => {
            *out = x
                .as_f64()
                .ok_or_else(|| config_err(path, &format!("`{key}` must be a number")))?;
            Ok(())
        }
    }
}

fn set_triple(
    v: &Value,
    key: &str,
    out: &mut [f64; 3],
    path: &Path,
) -> Result<(), PreprocessError> {
    let Some(x) = v.get(key) else {
        return Ok(());
    };
    let err = || config_err(path, &format!("`{key}` must be a list of 3 numbers"));
    let list = x.as_array().ok_or_else(err)?;
    if list.len() != 3 {
        return Err(err());
    }
    for (o, e) in out.iter_mut().zip(list) {
        *o = e.as_f64().ok_or_else(err)?;
    }
    Ok(())
}
