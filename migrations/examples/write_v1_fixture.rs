//! Writes the schema-1 fixture store used by `index/tests/migration.rs`.
//!
//! It is what a wave binary of the first schema left on disk: items in the v1 record format,
//! their vectors, a space definition, no HNSW snapshot and no BM25 index. Run once:
//! `cargo run -p wave-migrations --example write_v1_fixture -- migrations/fixtures/store-v1`

use rocksdb::{Options, WriteBatch, DB};
use wave_migrations::layout::{self, SpaceDef, VectorRecord};
use wave_migrations::v1;

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: write_v1_fixture OUT_DIR");
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    let db = DB::open_cf(
        &opts,
        std::path::Path::new(&out).join("db"),
        layout::ALL_CFS,
    )
    .unwrap();
    let mut batch = WriteBatch::default();
    let dim = 8;
    let items = [
        (
            "clip-a",
            "audio_video",
            Some((0u64, 20_500u64)),
            "dog, park",
            "a dog runs in the park",
        ),
        (
            "clip-b",
            "audio_video",
            Some((20_500, 41_000)),
            "dog",
            "the dog swims",
        ),
        ("song", "audio", None, "music,  hum ", "a hummed tune"),
        ("note", "text", None, "", "wind over the sea"),
    ];
    for (i, (id, modality, span, tags, caption)) in items.iter().enumerate() {
        let mut vector: Vec<f32> = (0..dim).map(|j| if j == i { 1.0 } else { 0.1 }).collect();
        let n = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        vector.iter_mut().for_each(|x| *x /= n);
        let record = v1::ItemRecord {
            id: id.to_string(),
            modality: modality.to_string(),
            source: Some(format!("file:///media/{id}")),
            start_ms: span.map(|s| s.0),
            end_ms: span.map(|s| s.1),
            parent: span.map(|_| "film".to_string()),
            title: None,
            caption: Some(caption.to_string()),
            transcript: None,
            tags: tags.to_string(),
            content_hash: Some(format!("hash-{i}")),
            model: Some("wave-tiny".into()),
            seq: i as u64 + 1,
            points: vec![("wave".to_string(), i as u64)],
        };
        batch.put_cf(
            layout::cf(&db, layout::CF_ITEMS),
            id.as_bytes(),
            v1::encode_item(&record),
        );
        batch.put_cf(
            layout::cf(&db, layout::CF_VECTORS),
            layout::vector_key("wave", i as u64),
            layout::encode(&VectorRecord {
                item: id.to_string(),
                vector,
            }),
        );
    }
    let def = SpaceDef {
        dim: dim as u32,
        max_connections: 16,
        ef_construction: 200,
        next_point: items.len() as u64,
    };
    let meta = layout::cf(&db, layout::CF_META);
    let mut space_key = layout::META_SPACE_PREFIX.to_vec();
    space_key.extend_from_slice(b"wave");
    batch.put_cf(meta, space_key, layout::encode(&def));
    batch.put_cf(meta, layout::META_SEQ, (items.len() as u64).to_be_bytes());
    batch.put_cf(meta, layout::META_SCHEMA_VERSION, 1u32.to_be_bytes());
    db.write(batch).unwrap();
    db.flush().unwrap();
    for cf in layout::ALL_CFS {
        db.flush_cf(layout::cf(&db, cf)).unwrap();
    }
}
