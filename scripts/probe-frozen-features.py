#!/usr/bin/env python3
"""How much of the synthetic world the frozen encoders' features carry, by linear probe.

`wave train` keeps BEATs and the ViT's patch embedding (and, unless --train-vision-blocks, the
ViT blocks) at their random initialisation and caches what the never-trained part produces in
`<run>/encoded-media.safetensors`: the mel front end, BEATs' output and the patch embedding
(caches written before 2026-11-27 held the ViT blocks' output instead). This script fits a
ridge-regression classifier (one-vs-rest, the best of four penalties on a held-out quarter)
from pooled cached features of single-object train scenes to one attribute at a time:

  silent video (the cached ViT features: patch embedding, or the blocks' output in older
  caches): shape, motion, colour;
  audio without speech (mel and BEATs frames): instrument, rhythm (motion), register (colour).

A high accuracy says the attribute is in the frozen features and the trained part of the model
only has to read it out; an accuracy near the majority class says pooled features do not carry
it linearly (the model may still find it in the token sequence, pooling drops where and when).

usage: scripts/probe-frozen-features.py RUN_DIR CORPUS_DIR      (needs numpy)
"""

import collections
import json
import struct
import sys

import numpy as np


class Cache:
    """Tensors of a safetensors file, read lazily through a memory map."""

    def __init__(self, path):
        with open(path, "rb") as f:
            size = struct.unpack("<Q", f.read(8))[0]
            self.header = json.loads(f.read(size))
        self.base = 8 + size
        self.bytes = np.memmap(path, dtype=np.uint8, mode="r")
        self.media = json.loads(self.header["__metadata__"]["media"])

    def __contains__(self, key):
        return key in self.header

    def tensor(self, key):
        entry = self.header[key]
        start, end = entry["data_offsets"]
        data = self.bytes[self.base + start : self.base + end]
        return np.frombuffer(data, dtype=np.float32).reshape(entry["shape"])


def scenes(corpus, view, keep):
    """Caption records of the train split's single-object scenes for one view, by scene id."""
    out = {}
    with open(f"{corpus}/train/corpus.jsonl") as f:
        for line in f:
            r = json.loads(line)
            if r["modality"] == "text" and r.get("view") == view and len(r["objects"]) == 1:
                if keep(r):
                    out[r["pair_of"]] = r
    return out


def probe(features, labels, seed=0):
    """Held-out accuracy of a ridge classifier, and the majority class's share."""
    x = np.stack(features)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    classes = sorted(set(labels))
    y = np.stack([[float(label == c) for c in classes] for label in labels])
    order = np.random.default_rng(seed).permutation(len(labels))
    train, test = order[: 3 * len(order) // 4], order[3 * len(order) // 4 :]
    best = 0.0
    for penalty in [1.0, 10.0, 100.0, 1000.0]:
        gram = x[train].T @ x[train] + penalty * np.eye(x.shape[1])
        weights = np.linalg.solve(gram, x[train].T @ y[train])
        predicted = np.argmax(x[test] @ weights, 1)
        best = max(best, float((predicted == np.argmax(y[test], 1)).mean()))
    majority = collections.Counter(labels).most_common(1)[0][1] / len(labels)
    return best, majority


def mean_and_spread(frames):
    return np.concatenate([frames.mean(0), frames.std(0)])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    run, corpus = sys.argv[1], sys.argv[2]
    cache = Cache(f"{run}/encoded-media.safetensors")

    videos = scenes(corpus, "visual", lambda r: True)
    stage = "blocks_in" if any(f"{s}.v.blocks_in" in cache for s in videos) else "merger_in"
    what = {"blocks_in": "patch embedding", "merger_in": "ViT blocks' output"}[stage]
    ids = sorted(s for s in videos if f"{s}.v.{stage}" in cache)
    # (time x rows x columns) patches of `hidden` features; pooled over all.
    features = [mean_and_spread(cache.tensor(f"{s}.v.{stage}")) for s in ids]
    print(f"silent video, {len(ids)} single-object scenes, {what} pooled (mean, std):")
    for attribute in ["kind", "motion", "colour"]:
        labels = [videos[s]["objects"][0][attribute] for s in ids]
        accuracy, majority = probe(features, labels)
        print(f"  {attribute:10} accuracy {accuracy:.3f}  (majority {majority:.3f})")

    sounds = scenes(corpus, "audio", lambda r: not r.get("speech"))
    ids = sorted(s for s in sounds if f"{s}.a.beats.0" in cache)
    print(f"audio, {len(ids)} single-object scenes without speech, frames pooled (mean, std):")

    def instrument(r):
        return next(t.split(":", 1)[1] for t in r["tags"] if t.startswith("instrument:"))

    attributes = [
        ("instrument", instrument),
        ("rhythm", lambda r: r["objects"][0]["motion"]),
        ("register", lambda r: r["objects"][0]["colour"]),
    ]
    for source in ["mel", "beats"]:
        # mel is stored (bins x frames), BEATs (frames x features).
        frames = [cache.tensor(f"{s}.a.{source}.0") for s in ids]
        features = [mean_and_spread(f.T if source == "mel" else f) for f in frames]
        for name, label in attributes:
            accuracy, majority = probe(features, [label(sounds[s]) for s in ids])
            print(f"  {source:5} {name:10} accuracy {accuracy:.3f}  (majority {majority:.3f})")


if __name__ == "__main__":
    main()
