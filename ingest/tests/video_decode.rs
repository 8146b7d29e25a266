//! Video decoding: frames at 2 fps with timestamps, scaling to the pixel budget, audio track,
//! and the silent / audio-video distinction.

mod common;

use common::{tone_amplitude, video, video_from, Track};
use wave_ingest::{decode_video, VideoKind, VideoOptions};

/// (file name, ffmpeg codec args) for every video container ingest accepts.
const FORMATS: &[(&str, &[&str])] = &[
    (
        "clip.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ),
    ("clip.mkv", &["-c:v", "mpeg4", "-c:a", "flac"]),
    (
        "clip.webm",
        &["-c:v", "libvpx", "-b:v", "300k", "-c:a", "libvorbis"],
    ),
    ("clip.mov", &["-c:v", "mpeg4", "-c:a", "aac"]),
];

#[test]
fn every_container_gives_2fps_frames_and_audio() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in FORMATS {
        let path = video(dir.path(), name, 320, 240, 3.0, Track::Tone, args);
        let v =
            decode_video(&path, &VideoOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.frame_times, vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5], "{name}");
        // Small enough already: not upscaled.
        assert_eq!(v.shape(), [6, 240, 320, 3], "{name}");
        assert_eq!(v.frames.len(), 6 * 240 * 320 * 3);
        assert_eq!(v.kind, VideoKind::AudioVideo, "{name}");
        let audio = v.audio.as_ref().unwrap();
        assert!(
            (audio.duration - 3.0).abs() < 0.1,
            "{name}: audio {} s",
            audio.duration
        );
        let a = tone_amplitude(&audio.pcm_16k[8000..40000], 16_000.0, 440.0);
        assert!((a - 0.5).abs() < 0.05, "{name}: 440 Hz amplitude {a}");
        assert!((v.info.duration.unwrap() - 3.0).abs() < 0.1, "{name}");
        // testsrc moves: consecutive frames differ.
        assert_ne!(v.frame(0), v.frame(1), "{name}");
    }
}

#[test]
fn frames_are_rgb_in_hwc_order() {
    let dir = tempfile::tempdir().unwrap();
    // Left half red, right half blue.
    let path = video_from(
        dir.path(),
        "rb.mp4",
        "color=c=red:size=64x32:rate=25:duration=1[l];color=c=blue:size=64x32:rate=25:duration=1[r];[l][r]hstack",
        1.0,
        Track::None,
        &["-c:v", "libx264", "-pix_fmt", "yuv444p", "-qp", "0"],
    );
    let v = decode_video(&path, &VideoOptions::default()).unwrap();
    assert_eq!(v.shape(), [2, 32, 128, 3]);
    let px = |x: usize, y: usize| {
        let f = v.frame(1).unwrap();
        let i = (y * v.width + x) * 3;
        [f[i], f[i + 1], f[i + 2]]
    };
    for (x, want) in [(10, [255, 0, 0]), (117, [0, 0, 255])] {
        let got = px(x, 16);
        for c in 0..3 {
            assert!(
                (got[c] as i32 - want[c]).abs() <= 8,
                "pixel ({x},16) = {got:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn large_frames_are_scaled_to_the_pixel_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = video(
        dir.path(),
        "hd.mp4",
        1280,
        720,
        1.0,
        Track::None,
        &["-c:v", "libx264"],
    );
    let v = decode_video(&path, &VideoOptions::default()).unwrap();
    assert!(v.width * v.height <= 176_400 && v.width.max(v.height) <= 640);
    assert_eq!((v.width, v.height), (560, 314));
    assert!(((v.width as f64 / v.height as f64) - 16.0 / 9.0).abs() < 0.02);

    // A tall frame is bounded by the long-side limit when that is the tighter one.
    let tall = video(
        dir.path(),
        "tall.mp4",
        200,
        1000,
        1.0,
        Track::None,
        &["-c:v", "libx264"],
    );
    let opts = VideoOptions {
        max_frame_side: 500,
        ..Default::default()
    };
    let v = decode_video(&tall, &opts).unwrap();
    assert_eq!((v.width, v.height), (100, 500));
}

#[test]
fn silent_and_audio_video_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let args: &[&str] = &["-c:v", "libx264", "-c:a", "aac"];
    let none = video(dir.path(), "none.mp4", 160, 120, 2.0, Track::None, args);
    let zeros = video(
        dir.path(),
        "zeros.mp4",
        160,
        120,
        2.0,
        Track::DigitalSilence,
        args,
    );
    let zeros_mkv = video(
        dir.path(),
        "zeros.mkv",
        160,
        120,
        2.0,
        Track::DigitalSilence,
        &["-c:v", "mpeg4", "-c:a", "pcm_s16le"],
    );
    let noise = video(
        dir.path(),
        "noise.mp4",
        160,
        120,
        2.0,
        Track::Noise(0.001),
        args,
    );
    let tone = video(
        dir.path(),
        "tone.webm",
        160,
        120,
        2.0,
        Track::Tone,
        &["-c:v", "libvpx", "-c:a", "libvorbis"],
    );
    let opts = VideoOptions::default();

    let v = decode_video(&none, &opts).unwrap();
    assert!(v.info.audio.is_none());
    assert_eq!((v.kind, v.audio.is_none()), (VideoKind::Silent, true));

    for p in [&zeros, &zeros_mkv] {
        let v = decode_video(p, &opts).unwrap();
        assert!(v.info.audio.is_some(), "{p:?} has an audio stream");
        assert_eq!(
            (v.kind, v.audio.is_none()),
            (VideoKind::Silent, true),
            "{p:?}"
        );
    }

    // -60 dBFS noise is quiet but real sound.
    for p in [&noise, &tone] {
        let v = decode_video(p, &opts).unwrap();
        assert_eq!(v.kind, VideoKind::AudioVideo, "{p:?}");
        assert!((v.audio.unwrap().duration - 2.0).abs() < 0.1);
    }
}

#[test]
fn a_time_range_is_decoded_with_source_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = video(
        dir.path(),
        "long.mkv",
        160,
        120,
        6.0,
        Track::Tone,
        &["-c:v", "mpeg4", "-c:a", "flac"],
    );
    let opts = VideoOptions {
        start_s: 2.0,
        duration_s: Some(2.0),
        ..Default::default()
    };
    let v = decode_video(&path, &opts).unwrap();
    assert_eq!(v.frame_times, vec![2.0, 2.5, 3.0, 3.5]);
    assert_eq!(v.num_frames(), 4);
    let audio = v.audio.as_ref().unwrap();
    assert!(
        (audio.duration - 2.0).abs() < 0.05,
        "audio {} s",
        audio.duration
    );
    // Frames match those of a full decode at the same times.
    let full = decode_video(&path, &VideoOptions::default()).unwrap();
    assert_eq!(full.num_frames(), 12);
    assert_eq!(full.frame(4), v.frame(0));
    // Picking a clip's frames and audio out of a full decode.
    assert_eq!(full.frames_between(2.0, 3.5), 4..8);
    assert_eq!(full.frames_between(2.1, 2.4), 5..5);
    assert_eq!(full.frames_between(5.0, 99.0), 10..12);
    let full_audio = full.audio.as_ref().unwrap();
    assert_eq!(full_audio.between(1.0, 2.5).len(), 24_000);
    assert_eq!(
        full_audio.between(5.5, 99.0).len(),
        full_audio.pcm_16k.len() - 88_000
    );
    assert!(full_audio.between(4.0, 3.0).is_empty());
}

#[test]
fn invalid_options_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = video(
        dir.path(),
        "v.mp4",
        160,
        120,
        1.0,
        Track::None,
        &["-c:v", "libx264"],
    );
    for opts in [
        VideoOptions {
            fps: 0.0,
            ..Default::default()
        },
        VideoOptions {
            fps: f64::NAN,
            ..Default::default()
        },
        VideoOptions {
            max_pixels: 0,
            ..Default::default()
        },
        VideoOptions {
            start_s: -1.0,
            ..Default::default()
        },
        VideoOptions {
            duration_s: Some(0.0),
            ..Default::default()
        },
    ] {
        assert!(
            matches!(
                decode_video(&path, &opts),
                Err(wave_ingest::IngestError::Config(_))
            ),
            "{opts:?}"
        );
    }
}
