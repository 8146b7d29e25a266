//! Clip segmentation boundaries.

use wave_ingest::{segment, ClipSpan, IngestError, SegmentConfig};

fn spans(clips: &[ClipSpan]) -> Vec<(f64, f64)> {
    clips.iter().map(|c| (c.start, c.end)).collect()
}

#[test]
fn defaults_fit_waves_64_second_limit() {
    let cfg = SegmentConfig::default();
    assert_eq!(
        (cfg.window_s(), cfg.overlap_s(), cfg.min_clip_s()),
        (30.0, 5.0, 10.0)
    );
    // The longest possible clip (a window that absorbed a short tail) stays ≤ 64 s.
    assert!(cfg.step_s() + cfg.min_clip_s() <= 64.0);
    for d in [
        1.0, 29.9, 30.0, 54.9, 55.0, 64.9, 65.0, 100.0, 3600.0, 86_400.0,
    ] {
        for c in segment(d, &cfg) {
            assert!(c.duration() <= 64.0, "duration {d}: clip {c:?}");
            assert!(c.duration() > 0.0);
        }
    }
}

#[test]
fn short_media_is_one_clip() {
    let cfg = SegmentConfig::default();
    assert_eq!(spans(&segment(12.5, &cfg)), vec![(0.0, 12.5)]);
    assert_eq!(spans(&segment(30.0, &cfg)), vec![(0.0, 30.0)]);
    // Shorter than the minimum clip too: still one clip.
    assert_eq!(spans(&segment(3.0, &cfg)), vec![(0.0, 3.0)]);
}

#[test]
fn windows_overlap_and_end_at_the_duration() {
    let cfg = SegmentConfig::default();
    // 70 s: 0-30, 25-55, 50-70 (20 s tail ≥ 10 s minimum: its own clip).
    let clips = segment(70.0, &cfg);
    assert_eq!(spans(&clips), vec![(0.0, 30.0), (25.0, 55.0), (50.0, 70.0)]);
    assert_eq!(
        clips.iter().map(|c| c.index).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    // Exactly reaching the end with a full window: no empty tail clip.
    assert_eq!(spans(&segment(55.0, &cfg)), vec![(0.0, 30.0), (25.0, 55.0)]);
}

#[test]
fn short_tail_merges_into_previous_clip() {
    let cfg = SegmentConfig::default();
    // 56 s: the tail 50-56 (6 s) is under 10 s → 25-55 becomes 25-56.
    assert_eq!(spans(&segment(56.0, &cfg)), vec![(0.0, 30.0), (25.0, 56.0)]);
    // 59.99 s: tail 9.99 s merges; 60 s: tail of exactly 10 s stays.
    assert_eq!(
        spans(&segment(59.99, &cfg)),
        vec![(0.0, 30.0), (25.0, 59.99)]
    );
    assert_eq!(
        spans(&segment(60.0, &cfg)),
        vec![(0.0, 30.0), (25.0, 55.0), (50.0, 60.0)]
    );
}

#[test]
fn custom_config_and_long_media() {
    let cfg = SegmentConfig::new(10.0, 0.0, 2.0).unwrap();
    assert_eq!(
        spans(&segment(31.0, &cfg)),
        vec![(0.0, 10.0), (10.0, 20.0), (20.0, 31.0)]
    );
    let clips = segment(3600.0, &SegmentConfig::default());
    assert_eq!(clips.len(), 144);
    for pair in clips.windows(2) {
        assert_eq!(pair[1].start - pair[0].start, 25.0);
        assert_eq!(pair[0].end - pair[1].start, 5.0);
    }
    assert_eq!(clips.last().unwrap().end, 3600.0);
    assert!(clips[0].contains(30.0) && clips[1].contains(30.0) && !clips[2].contains(30.0));
}

#[test]
fn degenerate_durations_and_configs() {
    let cfg = SegmentConfig::default();
    assert!(segment(0.0, &cfg).is_empty());
    assert!(segment(-5.0, &cfg).is_empty());
    assert!(segment(f64::NAN, &cfg).is_empty());
    assert!(segment(f64::INFINITY, &cfg).is_empty());
    for (w, o, m) in [
        (0.0, 0.0, 0.0),
        (10.0, 10.0, 1.0),
        (10.0, -1.0, 1.0),
        (10.0, 1.0, 11.0),
        (f64::NAN, 1.0, 1.0),
    ] {
        assert!(
            matches!(SegmentConfig::new(w, o, m), Err(IngestError::Config(_))),
            "({w}, {o}, {m}) accepted"
        );
    }
}
