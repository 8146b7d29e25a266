//! Audio decoding: every supported container/codec → 16 kHz mono with the right content.

mod common;

use common::{rms, tone, tone_amplitude};
use wave_ingest::{decode_audio, decode_audio_with, AudioOptions, ChannelMix, TARGET_RATE};

/// (file name, ffmpeg codec args) for every audio format ingest accepts.
const FORMATS: &[(&str, &[&str])] = &[
    ("tone.wav", &["-c:a", "pcm_s16le"]),
    ("tone.flac", &["-c:a", "flac"]),
    ("tone.mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("tone.ogg", &["-c:a", "libvorbis"]),
    ("tone.m4a", &["-c:a", "aac", "-b:a", "128k"]),
    ("tone.aac", &["-c:a", "aac", "-b:a", "128k", "-f", "adts"]),
];

#[test]
fn every_format_decodes_to_16k_mono_tone() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in FORMATS {
        let path = tone(dir.path(), name, 44_100, 2.0, args);
        let audio = decode_audio(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(audio.source_rate, 44_100, "{name}");
        assert_eq!(audio.source_channels, 2, "{name}");
        // Lossy codecs add encoder delay/padding: allow 0.1 s.
        assert!(
            (audio.duration - 2.0).abs() < 0.1,
            "{name}: duration {}",
            audio.duration
        );
        assert_eq!(
            audio.duration,
            audio.pcm_16k.len() as f64 / TARGET_RATE as f64
        );
        // A 0.5-amplitude 440 Hz tone, and nothing at another frequency.
        let middle = &audio.pcm_16k[4000..28000];
        let a440 = tone_amplitude(middle, 16_000.0, 440.0);
        let a1000 = tone_amplitude(middle, 16_000.0, 1000.0);
        assert!((a440 - 0.5).abs() < 0.03, "{name}: 440 Hz amplitude {a440}");
        assert!(a1000 < 0.01, "{name}: 1 kHz amplitude {a1000}");
        assert!(
            (audio.peak - 0.5).abs() < 0.05,
            "{name}: peak {}",
            audio.peak
        );
        assert!(!audio.is_silent(), "{name}");
    }
}

#[test]
fn sample_rates_are_converted_to_16k() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [8_000, 16_000, 22_050, 48_000, 96_000] {
        let path = tone(
            dir.path(),
            &format!("t{rate}.wav"),
            rate,
            1.5,
            &["-c:a", "pcm_f32le"],
        );
        let audio = decode_audio(&path).unwrap();
        assert_eq!(audio.source_rate, rate);
        assert_eq!(audio.pcm_16k.len(), 24_000, "from {rate} Hz");
        let a = tone_amplitude(&audio.pcm_16k[2000..22000], 16_000.0, 440.0);
        assert!((a - 0.5).abs() < 0.01, "from {rate} Hz: amplitude {a}");
    }
}

#[test]
fn channel_mix_average_or_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("left_only.wav");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.5*sin(2*PI*440*t)|0:s=16000:d=1",
        "-c:a",
        "pcm_f32le",
        path.to_str().unwrap(),
    ]);
    let avg = decode_audio(&path).unwrap();
    let first = decode_audio_with(
        &path,
        &AudioOptions {
            mix: ChannelMix::First,
            ..Default::default()
        },
    )
    .unwrap();
    // 16 kHz in, so no resampling: exact values.
    assert!((rms(&avg.pcm_16k) - 0.25 / 2f64.sqrt()).abs() < 1e-3);
    assert!((rms(&first.pcm_16k) - 0.5 / 2f64.sqrt()).abs() < 1e-3);
    assert_eq!(avg.peak, first.peak);
}

#[test]
fn digital_silence_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero.flac");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=44100:cl=mono:d=1",
        "-c:a",
        "flac",
        zero.to_str().unwrap(),
    ]);
    let audio = decode_audio(&zero).unwrap();
    assert_eq!(audio.peak, 0.0);
    assert!(audio.is_silent());
    assert!(audio.pcm_16k.iter().all(|&s| s == 0.0));

    // -80 dBFS noise is quiet but not digital silence.
    let quiet = dir.path().join("quiet.wav");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=r=44100:a=0.0001:d=1",
        "-c:a",
        "pcm_f32le",
        quiet.to_str().unwrap(),
    ]);
    assert!(!decode_audio(&quiet).unwrap().is_silent());
}
