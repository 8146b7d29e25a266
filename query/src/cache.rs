//! Re-embeddings of stored media under a prompt, cached per (item, prompt, model).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wave_index::Item;

/// Everything the re-embedding depends on: the item's media (source, span, content) as well
/// as its id, so a re-upserted item with other media misses the old entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReembedKey {
    pub item: String,
    pub source: Option<String>,
    pub span: Option<(u64, u64)>,
    pub content_hash: Option<String>,
    pub prompt: String,
    pub model: String,
}

impl ReembedKey {
    pub fn new(item: &Item, prompt: &str, model: &str) -> ReembedKey {
        ReembedKey {
            item: item.id.clone(),
            source: item.source.clone(),
            span: item.span.map(|(s, e)| (s.to_bits(), e.to_bits())),
            content_hash: item.content_hash.clone(),
            prompt: prompt.to_string(),
            model: model.to_string(),
        }
    }
}

/// The entries and their insertion order.
type Entries = (HashMap<ReembedKey, Arc<Vec<f32>>>, VecDeque<ReembedKey>);

/// A bounded map; the oldest entry goes first when full.
pub struct ReembedCache {
    capacity: usize,
    inner: Mutex<Entries>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl ReembedCache {
    pub fn new(capacity: usize) -> ReembedCache {
        ReembedCache {
            capacity,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &ReembedKey) -> Option<Arc<Vec<f32>>> {
        let found = self.inner.lock().ok().and_then(|g| g.0.get(key).cloned());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn insert(&self, key: ReembedKey, vector: Vec<f32>) -> Arc<Vec<f32>> {
        let vector = Arc::new(vector);
        if self.capacity == 0 {
            return vector;
        }
        if let Ok(mut g) = self.inner.lock() {
            let (map, order) = &mut *g;
            if map.insert(key.clone(), vector.clone()).is_none() {
                order.push_back(key);
            }
            while map.len() > self.capacity {
                match order.pop_front() {
                    Some(old) => {
                        map.remove(&old);
                    }
                    None => break,
                }
            }
        }
        vector
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.0.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, prompt: &str) -> ReembedKey {
        let item = Item {
            id: id.into(),
            source: Some(format!("/m/{id}.wav")),
            ..Item::default()
        };
        ReembedKey::new(&item, prompt, "m")
    }

    #[test]
    fn keyed_by_prompt_and_bounded() {
        let c = ReembedCache::new(2);
        c.insert(key("a", "p"), vec![1.0]);
        assert!(c.get(&key("a", "q")).is_none());
        assert_eq!(*c.get(&key("a", "p")).unwrap(), vec![1.0]);
        c.insert(key("b", "p"), vec![2.0]);
        c.insert(key("c", "p"), vec![3.0]);
        assert_eq!(c.len(), 2);
        assert!(c.get(&key("a", "p")).is_none(), "oldest evicted");
        assert_eq!(c.hits.load(Ordering::Relaxed), 1);
        assert_eq!(c.misses.load(Ordering::Relaxed), 2);
    }
}
