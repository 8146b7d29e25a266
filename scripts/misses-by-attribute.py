#!/usr/bin/env python3
"""What a model confuses at rank 1, by attribute of the synthetic world.

Reads the JSON of `wave eval --misses N --json` (standard input or a file) and, for every
direction, counts the top-1 misses whose first result differs from the query in each attribute
its captions name: background, number of shapes ("shapes"), colours, shapes, motions (what is
seen); ambience, number of players, instruments, registers, rhythms, tune, spoken words (what
is heard). Colours and shapes are compared only where the number of shapes is the same, instruments
and registers only where the number of players is. A miss usually differs in more than one
attribute, so a row's counts add up to more than its misses.

The word lists are those of the corpus generator (synth/src/world.rs, synth/src/caption.rs).
"""

import json
import re
import sys
from collections import Counter

COLOURS = ["red", "orange", "yellow", "green", "blue", "purple"]
SHAPES = ["circle", "square", "triangle", "star", "cross", "diamond"]
MOTIONS = ["bounces", "slides across", "spins", "circles around", "zigzags", "pulses", "dances"]
BACKGROUNDS = ["dark night background", "pale sky background", "grey checkerboard", "striped wall"]
INSTRUMENTS = ["flute", "clarinet", "bell", "guitar", "organ", "violin"]
REGISTERS = ["very low", "low-middle", "low", "middle", "very high", "high"]
RHYTHMS = [
    "a short note on every bounce",
    "one long gliding note",
    "a trembling note",
    "two notes slowly taking turns",
    "two notes quickly taking turns",
    "a note swelling and fading",
    "a melody",
]
AMBIENCES = ["crickets", "wind", "ticking", "rain"]


def attributes(caption):
    """The attributes a caption names, each as a sorted tuple (empty when not named)."""
    # Scene-keyed labels are "file-id: caption".
    caption = re.sub(r"^\S+\.\w+: ", "", caption)
    spoken = tuple(re.findall(r'says "([^"]+)"', caption))
    # Spoken words name colours and shapes too; they are not what is seen.
    described = re.sub(r'says "[^"]+"', "says", caption)
    shapes = re.findall(r"\b(%s) (%s)\b" % ("|".join(COLOURS), "|".join(SHAPES)), described)
    players = re.findall(
        r"\b(%s) (%s)\b" % ("|".join(REGISTERS), "|".join(INSTRUMENTS)), described
    )

    def named(words):
        return tuple(
            sorted(w for w in words if re.search(r"\b%s\b" % re.escape(w), described))
        )

    return {
        "background": named(BACKGROUNDS),
        "shapes": (len(shapes),) if shapes else (),
        "colour": tuple(sorted(c for c, _ in shapes)),
        "shape": tuple(sorted(s for _, s in shapes)),
        "motion": named(MOTIONS),
        "ambience": named(AMBIENCES),
        "players": (len(players),) if players else (),
        "instrument": tuple(sorted(i for _, i in players)),
        "register": tuple(sorted(r for r, _ in players)),
        "rhythm": named(RHYTHMS),
        "tune": tuple(re.findall(r"\b(\w+ \w+) tune\b", caption)),
        "spoken": spoken,
    }


def main():
    report = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    # Hum misses name files and tunes, not attributes: retrieval directions only.
    for row in report["retrieval"]:
        misses = row.get("misses", [])
        if not misses:
            continue
        differing = Counter()
        for miss in misses:
            query, first = attributes(miss["query"]), attributes(miss["first"])
            for name, value in query.items():
                # With another number of shapes (or players), colours and shapes (instruments
                # and registers) differ as a matter of course: count the number only.
                if name in ("colour", "shape") and query["shapes"] != first["shapes"]:
                    continue
                if name in ("instrument", "register") and query["players"] != first["players"]:
                    continue
                if value and value != first[name]:
                    differing[name] += 1
        counts = ", ".join(f"{name} {n}" for name, n in differing.most_common())
        print(f"{row['direction']}: {len(misses)} misses listed; differing in {counts}")


if __name__ == "__main__":
    main()
