//! A store written by the first schema (committed fixture) opens, migrates, and serves;
//! a store from a newer binary is refused with a clear error.

mod common;

use std::path::PathBuf;

use wave_index::{Filter, GraphOrigin, Modality, Store, StoreOptions, CURRENT_SCHEMA};
use wave_migrations::layout;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations/fixtures/store-v1")
}

#[test]
fn schema_1_fixture_is_migrated_on_open() {
    common::init_logs();
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&fixture(), dir.path());
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();

    let clip = store.get("clip-b").unwrap().unwrap();
    assert_eq!(clip.modality, Modality::AudioVideo);
    assert_eq!(clip.span, Some((20.5, 41.0)));
    assert_eq!(clip.parent.as_deref(), Some("film"));
    assert_eq!(clip.tags, ["dog"]);
    let song = store.get("song").unwrap().unwrap();
    assert_eq!(song.tags, ["music", "hum"]);
    assert_eq!(song.span, None);

    // The graph is rebuilt (the first schema had no snapshot) and answers.
    let stats = store.stats().unwrap();
    assert!(matches!(
        stats.spaces[0].origin,
        GraphOrigin::Rebuilt { .. }
    ));
    let q = store.vector("wave", "song").unwrap().unwrap();
    let hits = store
        .search("wave", &q, 1, None, &Filter::default())
        .unwrap();
    assert_eq!(hits[0].id, "song");
    // Filters work on migrated fields; BM25 was built from the migrated records.
    let f = Filter {
        time_range: Some((30.0, 35.0)),
        ..Default::default()
    };
    let hits = store.search("wave", &q, 4, None, &f).unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["clip-b"]
    );
    let hits = store.text_search("dog", 10, &Filter::default()).unwrap();
    assert_eq!(hits.len(), 2);
    drop(store);

    let db = rocksdb::DB::open_cf(
        &rocksdb::Options::default(),
        dir.path().join("db"),
        layout::ALL_CFS,
    )
    .unwrap();
    assert_eq!(
        wave_migrations::schema_version(&db).unwrap(),
        Some(CURRENT_SCHEMA)
    );
}

#[test]
fn newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&fixture(), dir.path());
    {
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path().join("db"),
            layout::ALL_CFS,
        )
        .unwrap();
        db.put_cf(
            layout::cf(&db, layout::CF_META),
            layout::META_SCHEMA_VERSION,
            (CURRENT_SCHEMA + 5).to_be_bytes(),
        )
        .unwrap();
    }
    let err = Store::open(dir.path(), StoreOptions::default())
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("schema version {}", CURRENT_SCHEMA + 5)) && msg.contains("newer"),
        "{msg}"
    );
    let db = rocksdb::DB::open_cf(
        &rocksdb::Options::default(),
        dir.path().join("db"),
        layout::ALL_CFS,
    )
    .unwrap();
    assert_eq!(
        wave_migrations::schema_version(&db).unwrap(),
        Some(CURRENT_SCHEMA + 5)
    );
    assert!(db
        .get_cf(layout::cf(&db, layout::CF_ITEMS), b"clip-a")
        .unwrap()
        .is_some());
}
