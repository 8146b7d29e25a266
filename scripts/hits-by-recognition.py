#!/usr/bin/env python3
"""Does video <-> audio retrieval fail where a side goes unrecognised?

A silent video and its soundtrack share no words: the model can match them only through what
both stand for (a shape's kind and colour <-> an instrument and register, a motion <-> a rhythm,
a background <-> an ambience) or through timing. This splits a split's scenes by whether the
model recognises each side on its own (the video's first caption, V->T, names what it shows;
the soundtrack's first caption, A->T, names what it plays) and prints V->A and A->V R@1 within
each of the four groups. If V <-> A hits come mostly where both sides are recognised, raising
V <-> A means raising recognition in each modality, not the pairing.

Needs the JSON of `wave eval --misses N --json` with N at least the number of queries (every
rank-1 miss listed) and media labels carrying file ids ("test-00000.v: caption"), as `wave eval`
writes them since 2026-12-07.

Usage: scripts/hits-by-recognition.py SPLIT_DIR EVAL.json
"""

import json
import sys
from pathlib import Path


def missed_ids(row):
    """File ids of a direction's rank-1 misses, checking that none were left off the list."""
    misses = row.get("misses", [])
    expected = round(row["queries"] * (1.0 - row["r1"]))
    if len(misses) != expected:
        sys.exit(
            f"{row['direction']}: {len(misses)} misses listed, {expected} expected; "
            "rerun `wave eval` with --misses at least the number of queries"
        )
    ids = set()
    for miss in misses:
        head, sep, _ = miss["query"].partition(": ")
        if not sep or " " in head:
            sys.exit(
                f"{row['direction']}: the miss {miss['query'][:60]!r} names no file id; "
                "rerun with a `wave eval` built since 2026-12-07 (it labels media by id)"
            )
        ids.add(head)
    return ids


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    split, report = Path(sys.argv[1]), json.load(open(sys.argv[2]))
    records = [json.loads(line) for line in open(split / "corpus.jsonl")]
    # Each scene's silent video and soundtrack.
    media = {}
    for r in records:
        if r["modality"] in ("video", "audio"):
            media.setdefault(r["pair_of"], {})[r["modality"]] = r["id"]
    scenes = {s: m for s, m in media.items() if len(m) == 2}
    rows = {row["direction"]: row for row in report["retrieval"]}
    missed = {d: missed_ids(rows[d]) for d in ("V->T", "A->T", "V->A", "A->V")}

    print(f"{len(scenes)} scenes with a silent video and a soundtrack")
    for direction, query in (("V->A", "video"), ("A->V", "audio")):
        groups = {}
        for ids in scenes.values():
            video_known = ids["video"] not in missed["V->T"]
            audio_known = ids["audio"] not in missed["A->T"]
            hit = ids[query] not in missed[direction]
            group = groups.setdefault((video_known, audio_known), [0, 0])
            group[0] += hit
            group[1] += 1
        print(f"\n{direction} R@1 by what the model recognises on its own")
        for video_known in (True, False):
            for audio_known in (True, False):
                hits, n = groups.get((video_known, audio_known), [0, 0])
                rate = f"{hits / n:.3f}" if n else "-"
                print(
                    f"  video {'recognised' if video_known else 'missed':10}  "
                    f"audio {'recognised' if audio_known else 'missed':10}  "
                    f"{n:4} scenes  R@1 {rate}"
                )


if __name__ == "__main__":
    main()
