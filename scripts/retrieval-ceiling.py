#!/usr/bin/env python3
"""How much rank 1 any model can reach on a split of the synthetic corpus, and why.

`wave eval` counts a gallery item as a hit when it carries the query's own caption (text <->
media) or is the query's own scene (video <-> audio). The generator words each caption in one
of several ways (three sentence forms for what is seen, two for what is heard) and repeats
combinations of attributes, so a split can hold two clips that show and sound the same in
every attribute a caption names, captioned in different words, or two scenes whose silent
video agrees in everything it shares with the soundtrack. No model can tell such items apart
from the query, so when they meet, the best it can do at rank 1 is a draw among them.

For every direction this prints the expected R@1 and R@10 of an oracle that knows every
attribute the two modalities share and ranks the items that agree with the query on all of
them first, in random order ("attribute oracle"), and how many queries have such a twin. For
text <-> media that is a true ceiling: wording is drawn apart from the media. For video <->
audio the media also share continuous timing (a bounce's note falls on the bounce; a shape's
speed sets its rhythm's tempo; a dancing shape's height follows its tune), which a model could
in principle use to beat the oracle.

With `--misses EVAL.json` (from `wave eval --misses 200 --json` on the same split) it also
counts, per direction, the model's rank-1 misses whose first result agrees with the query in
every shared attribute: misses of wording, not of content.

Usage: scripts/retrieval-ceiling.py SPLIT_DIR [--misses EVAL.json] [--json]
"""

import argparse
import json
from collections import defaultdict
from math import comb
from pathlib import Path


def tempo_word(bpm):
    # As synth/src/world.rs: tempo_word.
    return "slow" if bpm < 108.0 else "moderate" if bpm < 132.0 else "fast"


def things(record):
    return tuple(sorted((o["kind"], o["colour"], o["motion"]) for o in record["objects"]))


def seen(record):
    """What a silent video shows and its visual caption names (the order of two shapes is
    wording: captions do not say left or right)."""
    return (record["background"], things(record))


def heard(record):
    """What a soundtrack plays and its audio caption names."""
    if record.get("melody") is not None:
        player = record["objects"][0]
        sounds = (
            record["melody"],
            player["kind"],
            player["colour"],
            record.get("key"),
            tempo_word(record["bpm"]),
        )
    else:
        sounds = things(record)
    return (record["ambience"], sounds, record.get("speech"))


def shared_by_video_and_audio(record):
    """What a silent video and its soundtrack both carry: background <-> ambience, kind <->
    instrument, colour <-> register, motion <-> rhythm, and a dancing shape's tune."""
    return (record["background"], things(record), record.get("melody"))


def load_scenes(split_dir):
    """Per scene: its captions by view and its audio-video record; and the scene of every
    media item id."""
    scenes = defaultdict(dict)
    scene_of_item = {}
    with open(Path(split_dir) / "corpus.jsonl") as f:
        for line in f:
            r = json.loads(line)
            scene_of_item[r["id"]] = r["pair_of"]
            if r["modality"] == "text":
                scenes[r["pair_of"]][r["view"]] = r["text"]
            elif r["modality"] == "audio_video":
                scenes[r["pair_of"]]["record"] = r
    return {k: v for k, v in scenes.items() if "record" in v}, scene_of_item


def draw_recall(group, hits, k):
    """Chance that a random order of `group` items holds one of `hits` in its first k."""
    if hits == 0:
        return 0.0
    if group - hits < k:
        return 1.0
    return 1.0 - comb(group - hits, k) / comb(group, k)


def oracle(queries, gallery):
    """queries and gallery: lists of (hit key, content key). Expected R@1, R@10 of a draw
    among the gallery items whose content equals the query's, and the number of queries
    that share their content with an item that is not a hit."""
    by_content = defaultdict(list)
    for hit_key, content in gallery:
        by_content[content].append(hit_key)
    r1 = r10 = 0.0
    twinned = 0
    for hit_key, content in queries:
        group = by_content[content]
        hits = sum(1 for h in group if h == hit_key)
        r1 += draw_recall(len(group), hits, 1)
        r10 += draw_recall(len(group), hits, 10)
        twinned += len(group) > hits
    n = len(queries)
    return {"queries": n, "r1": r1 / n, "r10": r10 / n, "twinned": twinned}


def directions(scenes):
    """Each direction of `wave eval` as (queries, gallery) of (hit key, content key), and a
    map from every label `wave eval` prints to the content key it stands for."""
    rows = list(scenes.values())
    labels = {}
    views = {"visual": seen, "audio": heard, "full": lambda r: (seen(r), heard(r))}
    out = {}
    for view, (t2m, m2t) in {
        "visual": ("T->V", "V->T"),
        "audio": ("T->A", "A->T"),
        "full": ("T->AV", "AV->T"),
    }.items():
        items = [(s[view], views[view](s["record"])) for s in rows if view in s]
        for caption, content in items:
            labels[caption] = content
        out[t2m] = (items, items)
        out[m2t] = (items, items)
    items = [(s["record"]["pair_of"], shared_by_video_and_audio(s["record"])) for s in rows]
    out["V->A"] = (items, items)
    out["A->V"] = (items, items)
    for s in rows:
        labels[s["record"]["pair_of"]] = shared_by_video_and_audio(s["record"])
    return out, labels


def content_of(label, labels, scene_of_item):
    """The content key of a label `wave eval` printed: a caption, or "item-id: caption" for a
    scene-keyed (video <-> audio) item."""
    if label in labels:
        return labels[label]
    item = label.split(": ", 1)[0]
    if item in scene_of_item:
        return labels.get(scene_of_item[item])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("split", help="a split folder of `wave synth` (with corpus.jsonl)")
    ap.add_argument("--misses", help="`wave eval --misses N --json` report on the same split")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()

    scenes, scene_of_item = load_scenes(args.split)
    table, labels = directions(scenes)
    report = {name: oracle(q, g) for name, (q, g) in table.items()}

    if args.misses:
        evaluated = json.load(open(args.misses))
        for row in evaluated["retrieval"]:
            name = row["direction"]
            if name not in report:
                continue
            misses = row.get("misses", [])
            same = 0
            for miss in misses:
                q = content_of(miss["query"], labels, scene_of_item)
                f = content_of(miss["first"], labels, scene_of_item)
                same += q is not None and q == f
            report[name]["model_r1"] = row["r1"]
            report[name]["model_misses"] = len(misses)
            report[name]["model_misses_same_content"] = same

    if args.json:
        print(json.dumps(report, indent=1))
        return
    header = "| direction | queries | with a twin | oracle R@1 | oracle R@10 |"
    extra = args.misses is not None
    if extra:
        header += " model R@1 | misses | same content |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, row in report.items():
        line = (
            f"| {name} | {row['queries']} | {row['twinned']} | {row['r1']:.3f} | "
            f"{row['r10']:.3f} |"
        )
        if extra and "model_r1" in row:
            line += (
                f" {row['model_r1']:.3f} | {row['model_misses']} | "
                f"{row['model_misses_same_content']} |"
            )
        print(line)


if __name__ == "__main__":
    main()
