//! Discovery: directory walks, sidecar transcripts, JSONL manifests, subtitle parsing.

use std::fs;
use std::path::Path;

use wave_ingest::{
    discover, load_text, parse_cues, read_manifest, IngestError, MediaKind, Source, Transcript,
    WorkItem,
};

fn write(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Discovery judges by extension and size only, so placeholder bytes stand in for media.
const MEDIA: &str = "\0\0binary";

const SRT: &str = "1\n00:00:01,000 --> 00:00:04,000\n<i>Hello</i> there\nsecond line\n\n2\n00:00:31,500 --> 00:00:33,000\n{\\an8}General Kenobi\n";
const VTT: &str = "WEBVTT - a title\n\nNOTE a comment\nspanning lines\n\nintro\n00:01.000 --> 00:02.500 align:start\n<v Bob>Fish &amp; chips\n\n01:00:00.000 --> 01:00:01.000\nlate\n";

fn ok_items(results: Vec<Result<WorkItem, IngestError>>) -> (Vec<WorkItem>, Vec<IngestError>) {
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    (
        ok.into_iter().map(Result::unwrap).collect(),
        err.into_iter().map(|e| e.unwrap_err()).collect(),
    )
}

#[test]
fn walk_finds_kinds_sidecars_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("a.txt"), "a document");
    write(&root.join("b.MD"), "# notes");
    write(&root.join("talk.mp4"), MEDIA);
    write(&root.join("talk.srt"), SRT);
    write(&root.join("talk.txt"), "loses to the srt"); // the .srt is preferred, so this is a document
    write(&root.join("sub/song.flac"), MEDIA);
    write(&root.join("sub/song.txt"), "  la la la \n");
    write(&root.join("sub/clip.webm"), MEDIA);
    write(&root.join("sub/clip.vtt"), VTT);
    write(&root.join("sub/deeper/x.ogg"), MEDIA);
    write(&root.join("sub/deeper/y.m4a"), MEDIA);
    write(&root.join("sub/deeper/z.mkv"), MEDIA);
    write(&root.join("sub/deeper/w.MOV"), MEDIA);
    write(&root.join("photo.jpg"), MEDIA); // unknown extension: skipped
    write(&root.join("orphan.srt"), SRT); // subtitles without media: skipped
    write(&root.join(".hidden/secret.wav"), MEDIA);
    write(&root.join(".dot.mp3"), MEDIA);
    write(&root.join("empty.wav"), "");

    let (items, errors) = ok_items(discover(root));
    let ids: Vec<(&str, MediaKind)> = items.iter().map(|i| (i.id.as_str(), i.kind)).collect();
    assert_eq!(
        ids,
        vec![
            ("a.txt", MediaKind::Text),
            ("b.MD", MediaKind::Text),
            ("talk.mp4", MediaKind::Video),
            ("talk.txt", MediaKind::Text),
            ("sub/clip.webm", MediaKind::Video),
            ("sub/song.flac", MediaKind::Audio),
            ("sub/deeper/w.MOV", MediaKind::Video),
            ("sub/deeper/x.ogg", MediaKind::Audio),
            ("sub/deeper/y.m4a", MediaKind::Audio),
            ("sub/deeper/z.mkv", MediaKind::Video),
        ]
    );
    assert_eq!(errors.len(), 1);
    assert!(matches!(&errors[0], IngestError::Empty { path } if path.ends_with("empty.wav")));

    let by_id = |id: &str| items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(
        by_id("talk.mp4").source,
        Source::File(root.join("talk.mp4"))
    );
    let talk = by_id("talk.mp4").transcript.as_ref().unwrap();
    assert_eq!(talk.full_text(), "Hello there second line General Kenobi");
    // A clip gets the cues of its time range.
    assert_eq!(talk.text_between(0.0, 30.0), "Hello there second line");
    assert_eq!(talk.text_between(25.0, 55.0), "General Kenobi");
    assert_eq!(talk.text_between(4.0, 31.5), "");
    assert_eq!(
        by_id("sub/song.flac").transcript,
        Some(Transcript::Plain("la la la".into()))
    );
    let clip = by_id("sub/clip.webm").transcript.as_ref().unwrap();
    assert_eq!(clip.text_between(0.0, 30.0), "Fish & chips");
    assert_eq!(clip.text_between(3590.0, 3620.0), "late");
    assert!(by_id("a.txt").transcript.is_none());
    assert!(by_id("sub/deeper/x.ogg").transcript.is_none());
}

#[test]
fn a_bad_sidecar_is_reported_and_the_media_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("m.mp3"), MEDIA);
    write(
        &dir.path().join("m.srt"),
        "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nno timing here\n",
    );
    let (items, errors) = ok_items(discover(dir.path()));
    assert_eq!(items.len(), 1);
    assert!(items[0].transcript.is_none());
    match &errors[..] {
        [IngestError::Subtitle { path, line, .. }] => {
            assert!(path.ends_with("m.srt"));
            assert_eq!(*line, 5);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn subtitle_parsing_rules() {
    let p = Path::new("x.srt");
    let cues = parse_cues("\u{feff}1\r\n00:00:02,500 --> 00:00:03,000\r\nB\r\n\r\n2\r\n00:00:00,000 --> 00:00:01,000\r\nA\r\n", p).unwrap();
    // CRLF and a BOM are fine; cues come out sorted.
    assert_eq!(
        cues.iter()
            .map(|c| (c.start, c.end, c.text.as_str()))
            .collect::<Vec<_>>(),
        vec![(0.0, 1.0, "A"), (2.5, 3.0, "B")]
    );
    for (bad, line) in [
        ("1\n00:00:01,000 --> soon\nx\n", 2),
        ("1\n00:00:05,000 --> 00:00:01,000\nx\n", 2),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nx\n\n00:61:00,000 --> 00:62:00,000\ny\n",
            5,
        ),
        ("just text\nwith no timing\n", 1),
    ] {
        match parse_cues(bad, p) {
            Err(IngestError::Subtitle { line: l, .. }) => assert_eq!(l, line, "{bad:?}"),
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    // A zero-length cue belongs to the clip holding its instant.
    let t = Transcript::Timed(parse_cues("00:00:10.000 --> 00:00:10.000\nflash\n", p).unwrap());
    assert_eq!(t.text_between(5.0, 15.0), "flash");
    assert_eq!(t.text_between(11.0, 15.0), "");
}

#[test]
fn manifest_entries_and_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("media/talk.mp4"), MEDIA);
    write(&root.join("media/talk.vtt"), VTT);
    write(&root.join("media/song.wav"), MEDIA);
    write(&root.join("empty.mp3"), "");
    let abs = root.join("media/song.wav");
    let manifest = root.join("list.jsonl");
    let lines = [
        r#"{"path": "media/talk.mp4", "id": "talk", "title": "A talk", "tags": ["conf", "2024"]}"#,
        r#"{"text": "inline document", "caption": "cap"}"#,
        "",
        r#"{"path": "media/talk.mp4", "id": "talk"}"#, // duplicate id
        r#"{"path": "nope.wav"}"#,                     // missing file
        r#"{not json"#,
        r#"{"text": "x", "path": "media/song.wav"}"#, // both
        r#"{"title": "neither"}"#,
        r#"{"text": "typo", "captoin": "x"}"#, // unknown field
        r#"{"text": "   "}"#,
        r#"{"path": "empty.mp3"}"#,
        r#"{"path": "media/talk.vtt"}"#, // unsupported extension
        r#"{"tags": "not-a-list", "text": "x"}"#,
        &format!(
            r#"{{"path": {:?}, "transcript": "words", "id": "song"}}"#,
            abs.to_str().unwrap()
        ),
    ];
    fs::write(&manifest, lines.join("\n") + "\n").unwrap();

    let results = discover(&manifest);
    assert_eq!(results.len(), 13);
    // `discover` on a .jsonl file is `read_manifest`.
    let direct: Vec<String> = read_manifest(&manifest)
        .into_iter()
        .filter_map(|r| r.ok().map(|i| i.id))
        .collect();
    assert_eq!(direct, vec!["talk", "list.jsonl:2", "song"]);
    let (items, errors) = ok_items(results);
    assert_eq!(items.len(), 3);

    let talk = &items[0];
    assert_eq!((talk.id.as_str(), talk.kind), ("talk", MediaKind::Video));
    assert_eq!(talk.path(), Some(root.join("media/talk.mp4").as_path()));
    assert_eq!(talk.title.as_deref(), Some("A talk"));
    assert_eq!(talk.tags, vec!["conf", "2024"]);
    assert_eq!(
        talk.transcript.as_ref().unwrap().text_between(0.0, 5.0),
        "Fish & chips"
    );

    let inline = &items[1];
    assert_eq!(inline.id, "list.jsonl:2");
    assert_eq!(inline.kind, MediaKind::Text);
    assert_eq!(inline.source, Source::Inline("inline document".into()));
    assert_eq!(inline.caption.as_deref(), Some("cap"));

    let song = &items[2];
    assert_eq!((song.id.as_str(), song.kind), ("song", MediaKind::Audio));
    assert_eq!(song.transcript, Some(Transcript::Plain("words".into())));

    let lines_of: Vec<usize> = errors
        .iter()
        .map(|e| match e {
            IngestError::Manifest { line, path, .. }
            | IngestError::InManifest {
                line,
                manifest: path,
                ..
            } => {
                assert_eq!(path, &manifest);
                *line
            }
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(lines_of, vec![4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // Errors about a referenced file carry that file's own error and path.
    assert!(
        matches!(&errors[1], IngestError::InManifest { source, .. } if matches!(**source, IngestError::Io { .. }))
    );
    assert_eq!(errors[1].path(), Some(root.join("nope.wav").as_path()));
    assert!(
        matches!(&errors[7], IngestError::InManifest { source, .. } if matches!(**source, IngestError::Empty { .. }))
    );
    assert!(
        matches!(&errors[8], IngestError::InManifest { source, .. } if matches!(**source, IngestError::UnsupportedExtension { .. }))
    );
    assert!(errors[0].to_string().contains("duplicate id"));
    assert!(errors[5].to_string().contains("captoin"));
    assert!(errors[6].to_string().contains("`text` is empty"));
    assert!(errors[9].to_string().contains("line 13"));
}

#[test]
fn unreadable_roots_are_errors() {
    let missing = Path::new("/definitely/not/here");
    match &discover(missing)[..] {
        [Err(e @ IngestError::Io { .. })] => assert_eq!(e.path(), Some(missing)),
        other => panic!("{other:?}"),
    }
    let missing_manifest = Path::new("/definitely/not/here.jsonl");
    assert!(matches!(
        &discover(missing_manifest)[..],
        [Err(IngestError::Io { .. })]
    ));
    // A single file is an item of its own.
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("one.wav"), MEDIA);
    let items = discover(&dir.path().join("one.wav"));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap().id, "one.wav");
}

#[test]
fn text_documents_load_as_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("doc.md");
    fs::write(&p, "\u{feff}# Title\nbody ü\n").unwrap();
    assert_eq!(load_text(&p).unwrap(), "# Title\nbody ü\n");
    let nul = dir.path().join("nul.txt");
    fs::write(&nul, "text\0more").unwrap();
    assert!(matches!(
        load_text(&nul),
        Err(IngestError::WrongContent { .. })
    ));
}
