"""The hnswlib side of index-bench: same files, same parameters, prints one JSON object."""
import argparse, json, os, time

import hnswlib
import numpy as np


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--n", type=int); p.add_argument("--dim", type=int)
p.add_argument("--m", type=int); p.add_argument("--ef-construction", type=int)
p.add_argument("--ef", type=str)
a = p.parse_args()
K = 10
base = np.fromfile(os.path.join(a.data, "base.f32"), dtype=np.float32).reshape(-1, a.dim)
queries = np.fromfile(os.path.join(a.data, "queries.f32"), dtype=np.float32).reshape(-1, a.dim)
gt = np.fromfile(os.path.join(a.data, "gt.f32"), dtype=np.float32).astype(np.int64).reshape(-1, K)
before = rss_kib("VmRSS:")
t = time.perf_counter()
index = hnswlib.Index(space="cosine", dim=a.dim)
index.init_index(max_elements=len(base), M=a.m, ef_construction=a.ef_construction, random_seed=1)
index.add_items(base, np.arange(len(base)), num_threads=os.cpu_count())
build_s = time.perf_counter() - t
peak = rss_kib("VmHWM:") - before
sweep = []
for ef in [int(x) for x in a.ef.split(",")]:
    index.set_ef(ef)
    t = time.perf_counter()
    labels = np.vstack([index.knn_query(q, k=K, num_threads=1)[0] for q in queries])
    qps1 = len(queries) / (time.perf_counter() - t)
    t = time.perf_counter()
    index.knn_query(queries, k=K, num_threads=os.cpu_count())
    qps_all = len(queries) / (time.perf_counter() - t)
    rec = np.mean([len(set(labels[i]) & set(gt[i])) / K for i in range(len(queries))])
    sweep.append({"ef": ef, "recall": float(rec), "qps_1": qps1, "qps_all": qps_all})
print(json.dumps({"side": "hnswlib", "build_s": build_s, "peak_rss_delta_kib": peak, "sweep": sweep}))
