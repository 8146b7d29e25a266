//! A video encoded up to its pixel patches (what a trainer that trains the patch embedding
//! caches) embeds exactly as one encoded up to the patch embedding, and its 8-bit host copy
//! restores the processor's values exactly.

mod common;

use std::path::PathBuf;

use burn::tensor::Tensor;
use wave_engine::embedder::{Embedder, FrameTiming, Input, VideoFrames};
use wave_engine::encoded::{EncodedMedia, HostVision, VisionCut, VisionInput};
use wave_engine::CpuBackend;

type B = CpuBackend;

fn shipped_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/wave-tiny")
}

/// Six 112×112 frames of a square drifting right over a gradient, one second long.
fn video() -> Input {
    let (n, side) = (6, 112);
    let mut data = Vec::with_capacity(n * side * side * 3);
    for f in 0..n {
        for y in 0..side {
            for x in 0..side {
                let inside = (30 + 8 * f..60 + 8 * f).contains(&x) && (40..70).contains(&y);
                let px = if inside {
                    [220, 40, 30]
                } else {
                    [(x * 2) as u8, (y * 2) as u8, 90]
                };
                data.extend_from_slice(&px);
            }
        }
    }
    Input::Video {
        frames: VideoFrames {
            data,
            num_frames: n,
            height: side,
            width: side,
            timing: FrameTiming::Sampled { duration_s: 1.0 },
        },
        prompt: None,
    }
}

fn values(t: &Tensor<B, 2>) -> Vec<f32> {
    t.clone().into_data().to_vec::<f32>().unwrap()
}

fn pixels(media: &EncodedMedia<B>) -> Vec<f32> {
    match &media.video.as_ref().unwrap().input {
        VisionInput::Pixels { patches, .. } => values(patches),
        VisionInput::Embedded(_) => panic!("expected pixel patches"),
    }
}

#[test]
fn pixel_patches_embed_as_the_patch_embedding_does() {
    let embedder = Embedder::<B>::load(&shipped_model(), &Default::default()).unwrap();
    let input = video();
    let embedded = embedder
        .encode_media_to(&input, VisionCut::PatchEmbedding)
        .unwrap();
    let raw = embedder.encode_media_to(&input, VisionCut::Pixels).unwrap();

    // The host copy keeps one byte a value and gives the processor's floats back bit for bit.
    let host = raw.to_host();
    let Some((HostVision::Pixels(p), grid, _)) = &host.video else {
        panic!("pixel patches expected on the host");
    };
    assert_eq!(p.shape[0], grid.iter().product::<usize>());
    assert_eq!(p.values.len(), p.shape[0] * p.shape[1]);
    let restored = EncodedMedia::<B>::from_host(&host, &Default::default());
    assert_eq!(pixels(&restored), pixels(&raw));

    let vector = |media: &EncodedMedia<B>| {
        let prepared = embedder.prepare_encoded(media, None).unwrap();
        values(&embedder.forward_prepared(vec![prepared]).unwrap())
    };
    let (a, b) = (vector(&embedded), vector(&restored));
    let worst = common::max_abs_diff(&a, &b);
    assert!(worst < 1e-4, "the two cuts disagree by {worst}");
    // And both are what the regular embedding path gives.
    let direct = embedder
        .embed_raw(std::slice::from_ref(&input))
        .unwrap()
        .remove(0);
    let worst = common::max_abs_diff(&direct, &a);
    assert!(
        worst < 1e-4,
        "encode + prepare differs from embed_raw by {worst}"
    );
}
