//! Combining the vector list and the BM25 list into one ranking.

use std::collections::HashMap;

use wave_index::Hit;

/// How two ranked lists become one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal rank fusion: Σ w / (k + rank); the vector list has weight 1.
    Rrf { k: f32 },
    /// cosine + w · BM25 on raw scores.
    WeightedSum,
    /// Each list min-max normalised to [0, 1], then (1 - w) · vector + w · BM25.
    Normalized,
}

/// A candidate with what each stage said about it. Ranks are 1-based.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub vector: Option<(f32, u32)>,
    pub bm25: Option<(f32, u32)>,
    pub fused: f32,
}

/// One list alone: its scores are the fused scores.
pub fn single(hits: &[Hit], bm25: bool) -> Vec<Candidate> {
    hits.iter()
        .enumerate()
        .map(|(i, h)| {
            let stage = Some((h.score, i as u32 + 1));
            Candidate {
                id: h.id.clone(),
                vector: if bm25 { None } else { stage },
                bm25: if bm25 { stage } else { None },
                fused: h.score,
            }
        })
        .collect()
}

/// Fuses the two lists; the result is sorted by fused score (ties by id, for determinism).
pub fn fuse(vector: &[Hit], bm25: &[Hit], fusion: Fusion, bm25_weight: f32) -> Vec<Candidate> {
    let mut by_id: HashMap<&str, Candidate> = HashMap::new();
    for (i, h) in vector.iter().enumerate() {
        by_id
            .entry(h.id.as_str())
            .or_insert_with(|| blank(&h.id))
            .vector = Some((h.score, i as u32 + 1));
    }
    for (i, h) in bm25.iter().enumerate() {
        by_id
            .entry(h.id.as_str())
            .or_insert_with(|| blank(&h.id))
            .bm25 = Some((h.score, i as u32 + 1));
    }
    let norm_v = MinMax::of(vector);
    let norm_b = MinMax::of(bm25);
    let mut out: Vec<Candidate> = by_id
        .into_values()
        .map(|mut c| {
            c.fused = match fusion {
                Fusion::Rrf { k } => {
                    c.vector.map_or(0.0, |(_, r)| 1.0 / (k + r as f32))
                        + c.bm25.map_or(0.0, |(_, r)| bm25_weight / (k + r as f32))
                }
                Fusion::WeightedSum => {
                    c.vector.map_or(0.0, |(s, _)| s) + bm25_weight * c.bm25.map_or(0.0, |(s, _)| s)
                }
                Fusion::Normalized => {
                    (1.0 - bm25_weight) * c.vector.map_or(0.0, |(s, _)| norm_v.apply(s))
                        + bm25_weight * c.bm25.map_or(0.0, |(s, _)| norm_b.apply(s))
                }
            };
            c
        })
        .collect();
    sort(&mut out);
    out
}

/// Best first; equal scores in id order.
pub fn sort(c: &mut [Candidate]) {
    c.sort_by(|a, b| b.fused.total_cmp(&a.fused).then_with(|| a.id.cmp(&b.id)));
}

fn blank(id: &str) -> Candidate {
    Candidate {
        id: id.to_string(),
        vector: None,
        bm25: None,
        fused: 0.0,
    }
}

struct MinMax {
    min: f32,
    max: f32,
}

impl MinMax {
    fn of(hits: &[Hit]) -> MinMax {
        let min = hits.iter().map(|h| h.score).fold(f32::INFINITY, f32::min);
        let max = hits
            .iter()
            .map(|h| h.score)
            .fold(f32::NEG_INFINITY, f32::max);
        MinMax { min, max }
    }

    /// A list whose scores are all equal maps to 1: every entry is its best.
    fn apply(&self, s: f32) -> f32 {
        if self.max > self.min {
            (s - self.min) / (self.max - self.min)
        } else {
            1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(list: &[(&str, f32)]) -> Vec<Hit> {
        list.iter()
            .map(|(id, score)| Hit {
                id: id.to_string(),
                score: *score,
            })
            .collect()
    }

    #[test]
    fn rrf_rewards_agreement() {
        let v = hits(&[("a", 0.9), ("b", 0.8), ("c", 0.7)]);
        let b = hits(&[("c", 12.0), ("b", 3.0)]);
        let out = fuse(&v, &b, Fusion::Rrf { k: 60.0 }, 1.0);
        let ids: Vec<&str> = out.iter().map(|c| c.id.as_str()).collect();
        // Items both lists agree on beat the vector list's top item found by one list only.
        // c: 1/63 + 1/61 = 0.032266 edges out b: 1/62 + 1/62 = 0.032258; a: 1/61 only.
        assert_eq!(ids, ["c", "b", "a"]);
        let c = out.iter().find(|c| c.id == "c").unwrap();
        assert_eq!(c.vector, Some((0.7, 3)));
        assert_eq!(c.bm25, Some((12.0, 1)));
        assert!((c.fused - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-7);
    }

    #[test]
    fn bm25_weight_zero_keeps_vector_order() {
        let v = hits(&[("a", 0.9), ("b", 0.8)]);
        let b = hits(&[("b", 10.0), ("x", 9.0)]);
        for f in [
            Fusion::Rrf { k: 60.0 },
            Fusion::WeightedSum,
            Fusion::Normalized,
        ] {
            let out = fuse(&v, &b, f, 0.0);
            assert_eq!(out[0].id, "a", "{f:?}");
            assert_eq!(out[1].id, "b", "{f:?}");
        }
    }

    #[test]
    fn normalized_and_weighted_sum() {
        let v = hits(&[("a", 0.9), ("b", 0.5)]);
        let b = hits(&[("b", 20.0), ("a", 10.0)]);
        let n = fuse(&v, &b, Fusion::Normalized, 0.5);
        // a: 0.5·1 + 0.5·0 = 0.5; b: 0.5·0 + 0.5·1 = 0.5; tie broken by id.
        assert_eq!(n[0].id, "a");
        assert!((n[0].fused - 0.5).abs() < 1e-6 && (n[1].fused - 0.5).abs() < 1e-6);
        let w = fuse(&v, &b, Fusion::WeightedSum, 0.1);
        assert_eq!(w[0].id, "b"); // 0.5 + 2.0 > 0.9 + 1.0
        assert!((w[0].fused - 2.5).abs() < 1e-6);
    }
}
