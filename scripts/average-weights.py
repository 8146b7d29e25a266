#!/usr/bin/env python3
"""Average the weights of model directories trained from one starting point (a "model soup").

Usage: average-weights.py OUT_DIR MODEL_DIR MODEL_DIR [...]

Every input must hold a model.safetensors with the same tensor names, shapes and dtype (F32),
as runs started with `wave train --init-from` from one model do. OUT_DIR gets the element-wise
mean as model.safetensors and the first input's configs and tokenizer. Standard
library only: the training machines have no numpy.
"""
import array
import json
import shutil
import struct
import sys
from pathlib import Path


# Files of an input directory that record how that model was trained or how it scored.
RUN_RECORDS = ("trainer_state", "training-log", "eval")


def read_safetensors(path):
    try:
        data = path.read_bytes()
    except OSError as e:
        sys.exit(f"{path}: {e.strerror}")
    if len(data) < 8:
        sys.exit(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8 : 8 + header_len])
    except ValueError:
        sys.exit(f"{path}: the header is not JSON (truncated or not a safetensors file)")
    header.pop("__metadata__", None)
    body = memoryview(data)[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}, only F32 is averaged")
        start, end = info["data_offsets"]
        if end > len(body):
            sys.exit(f"{path}: tensor {name} runs past the end of the file (truncated?)")
        values = array.array("f")
        values.frombytes(body[start:end])
        if sys.byteorder != "little":
            values.byteswap()
        tensors[name] = (info["shape"], values)
    return tensors


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    inputs = [Path(p) for p in sys.argv[2:]]
    models = [read_safetensors(p / "model.safetensors") for p in inputs]
    first = models[0]
    for path, model in zip(inputs[1:], models[1:]):
        if model.keys() != first.keys():
            sys.exit(f"{path}: tensor names differ from {inputs[0]}'s")
        for name, (shape, _) in model.items():
            if shape != first[name][0]:
                sys.exit(f"{path}: {name} has shape {shape}, {inputs[0]} has {first[name][0]}")

    header, chunks, offset = {}, [], 0
    for name in sorted(first):
        shape, values = first[name]
        mean = array.array("f", values)
        # A tensor every input holds alike (the frozen encoders) is kept as it is: summed and
        # divided in f32 it can come back a rounding step off (five copies did), and then the
        # trainer's media cache, keyed by the frozen weights, no longer matches the model.
        # (Summing in f64 instead would also fix it, but would move the shipped means of
        # stages 25-27, made this way, by a rounding step, so the recipe would stop
        # reproducing them bit for bit.)
        if any(model[name][1] != values for model in models[1:]):
            for model in models[1:]:
                other = model[name][1]
                for i in range(len(mean)):
                    mean[i] += other[i]
            for i in range(len(mean)):
                mean[i] /= len(models)
        if sys.byteorder != "little":
            mean.byteswap()
        raw = mean.tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)

    out.mkdir(parents=True, exist_ok=True)
    # Configs and tokenizer only: logs and reports describe that input, not the mean.
    for item in inputs[0].iterdir():
        if item.is_file() and item.suffix == ".json" and not item.name.startswith(RUN_RECORDS):
            shutil.copy(item, out / item.name)
    with open(out / "model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for raw in chunks:
            f.write(raw)
    print(f"wrote {out / 'model.safetensors'}: mean of {len(models)} models, {len(header)} tensors")


if __name__ == "__main__":
    main()
