//! Shared helpers for the parity tests: where the golden set is and how to read its tensors.
#![allow(dead_code)]

use std::path::PathBuf;

use wave_engine::embedder::{FrameTiming, VideoFrames};
use wave_engine::weights::WeightStore;

/// The backend the parity tests run on: the CPU, or the GPU when built with `--features cuda`
/// (see scripts/gpu-check.sh).
#[cfg(not(feature = "cuda"))]
pub type TestBackend = wave_engine::CpuBackend;
#[cfg(feature = "cuda")]
pub type TestBackend = wave_engine::CudaBackend;

/// `$WAVE_TEST_TOL`, when set, raises every tolerance to at least that value: for backends whose
/// arithmetic is looser than CPU f32 (TF32 matmuls on CUDA).
pub fn tolerance_floor() -> f32 {
    std::env::var("WAVE_TEST_TOL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The golden directory: `$WAVE_GOLDEN_DIR`, else the shared dev set beside the checkout.
pub fn golden_dir() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

/// Tensors of one golden safetensors file (e.g. `cases/audio.safetensors`), read as f32.
pub struct Golden {
    store: WeightStore,
    pub file: String,
}

impl Golden {
    pub fn open(relative: &str) -> Golden {
        let path = golden_dir().join(relative);
        let mut store = WeightStore::default();
        store
            .add_safetensors(&path, "")
            .unwrap_or_else(|e| panic!("cannot open golden file {}: {e}", path.display()));
        Golden {
            store,
            file: relative.to_string(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.store.contains(name)
    }

    /// Values (as f32; int64 tensors converted exactly below 2^24) and shape.
    pub fn f32(&self, name: &str) -> (Vec<f32>, Vec<usize>) {
        self.store
            .read_f32(name)
            .unwrap_or_else(|e| panic!("{}: {e}", self.file))
    }

    /// The case's video frames: already sampled by the reference, over a clip that lasted
    /// native_frames / native_fps seconds.
    pub fn video_frames(&self) -> VideoFrames {
        let (values, shape) = self.f32("video_frames_uint8");
        let duration_s = self.i64("video_native_num_frames").0[0] as f64
            / self.f32("video_native_fps").0[0] as f64;
        VideoFrames {
            data: values.into_iter().map(|x| x as u8).collect(),
            num_frames: shape[0],
            height: shape[1],
            width: shape[2],
            timing: FrameTiming::Sampled { duration_s },
        }
    }

    /// Integer tensor values (stored int64) and shape.
    pub fn i64(&self, name: &str) -> (Vec<i64>, Vec<usize>) {
        let (v, s) = self.f32(name);
        (v.into_iter().map(|x| x as i64).collect(), s)
    }
}

/// Max absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "length mismatch: {} vs {}",
        a.len(),
        b.len()
    );
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Asserts `actual` matches `expected` within `tol`, naming the tensor on failure.
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], tol: f32) {
    let tol = tol.max(tolerance_floor());
    let d = max_abs_diff(actual, expected);
    assert!(d <= tol, "{what}: max abs diff {d:e} > {tol:e}");
    eprintln!("{what}: max abs diff {d:e}");
}
