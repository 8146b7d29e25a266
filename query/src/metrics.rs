//! Prometheus metrics in the text exposition format: request counts by RPC and status code,
//! latency histograms, in-flight and rejected requests, re-embedding cache, store size.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use tonic::Code;

use crate::searcher::Searcher;

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    pub in_flight: AtomicI64,
    /// Requests refused by the concurrency limit.
    pub rejected: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, rpc: &'static str, code: Code, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((rpc, format!("{code:?}"))).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(rpc).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// The exposition text; store gauges are read at scrape time.
    pub fn render(&self, searcher: &Searcher) -> String {
        let mut out = String::new();
        out.push_str("# HELP wave_requests_total gRPC requests by method and status code.\n");
        out.push_str("# TYPE wave_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((rpc, code), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "wave_requests_total{{method=\"{rpc}\",code=\"{code}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP wave_request_duration_seconds gRPC request latency.\n");
        out.push_str("# TYPE wave_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (rpc, h) in l.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "wave_request_duration_seconds_bucket{{method=\"{rpc}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "wave_request_duration_seconds_bucket{{method=\"{rpc}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "wave_request_duration_seconds_sum{{method=\"{rpc}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "wave_request_duration_seconds_count{{method=\"{rpc}\"}} {}",
                    h.count
                );
            }
        }
        let (hits, misses) = searcher.cache_counters();
        let gauges: [(&str, &str, &str, f64); 4] = [
            (
                "wave_requests_in_flight",
                "gauge",
                "Requests being served.",
                self.in_flight.load(Ordering::Relaxed) as f64,
            ),
            (
                "wave_requests_rejected_total",
                "counter",
                "Requests refused with RESOURCE_EXHAUSTED by the concurrency limit.",
                self.rejected.load(Ordering::Relaxed) as f64,
            ),
            (
                "wave_reembed_cache_hits_total",
                "counter",
                "Re-embeddings served from the cache.",
                hits as f64,
            ),
            (
                "wave_reembed_cache_misses_total",
                "counter",
                "Re-embedding cache misses.",
                misses as f64,
            ),
        ];
        for (name, kind, help, v) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        if let Ok(s) = searcher.store().stats() {
            let _ = writeln!(
                out,
                "# HELP wave_store_items Items in the store.\n# TYPE wave_store_items gauge\nwave_store_items {}",
                s.items
            );
            let _ = writeln!(
                out,
                "# HELP wave_store_seq Last acknowledged write sequence number.\n# TYPE wave_store_seq gauge\nwave_store_seq {}",
                s.seq
            );
            out.push_str("# HELP wave_space_live_vectors Live vectors per space.\n");
            out.push_str("# TYPE wave_space_live_vectors gauge\n");
            for sp in &s.spaces {
                let _ = writeln!(
                    out,
                    "wave_space_live_vectors{{space=\"{}\"}} {}",
                    sp.name, sp.live
                );
            }
        }
        out
    }
}
