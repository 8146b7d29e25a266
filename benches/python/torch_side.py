"""The PyTorch side of engine-bench: transformers' Qwen2.5-Omni thinker on the same model
directory and the same golden inputs, timed per modality; prints one JSON object.

Like for like: both sides run the parts the thinker has — the Whisper-style audio tower, the
vision tower, the Qwen2 decoder — from the same features (log-mel, video patches), token ids and
M-RoPE positions to the final-norm hidden state of the last token. WAVE's BEATs branch, its
aligner and the fusion head have no counterpart in the transformers class and are left out, so
the audio token runs hold one token per Whisper frame (the thinker layout), not WAVE's doubled one.

Writes the inputs it built and its outputs to --out (safetensors), which the Rust side reads.
"""
import argparse, json, os, time

import torch
from safetensors.torch import load_file, save_file
from transformers import Qwen2_5OmniThinkerForConditionalGeneration

p = argparse.ArgumentParser()
p.add_argument("--model", required=True, help="model directory (config.json + model.safetensors)")
p.add_argument("--golden", required=True, help="golden set with cases/*.safetensors")
p.add_argument("--out", required=True, help="safetensors file for inputs and outputs")
p.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds per modality")
p.add_argument("--min-iters", type=int, default=3)
p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads")
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
# Newer transformers releases take `dtype`; 4.5x take `torch_dtype`.
thinker = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
    a.model, torch_dtype=torch.float32, attn_implementation="sdpa"
).eval()
cfg = thinker.config


def case(name):
    return load_file(os.path.join(a.golden, "cases", f"{name}.safetensors"))


def thinker_ids(ids):
    """WAVE doubles each audio token run (Whisper and BEATs interleaved); keep the first half."""
    out, run = [], []
    for t in ids.tolist() + [None]:
        if t == cfg.audio_token_id:
            run.append(t)
            continue
        out.extend(run[: len(run) // 2])
        run = []
        if t is not None:
            out.append(t)
    return torch.tensor([out], dtype=torch.long)


def build(modality):
    """Token ids, features and positions of one golden input in the thinker's layout."""
    item = {}
    if modality == "text":
        t = load_file(os.path.join(a.golden, "cases", "text.safetensors"))
        n = int(t["input_lengths"][0])
        item["input_ids"] = t["input_ids_padded"][:1, :n].long()
    else:
        g = case({"audio": "audio", "video": "video", "audio-video": "av"}[modality])
        ids = g["input_ids"][0].long()
        if "audio" in modality:
            item["input_ids"] = thinker_ids(ids)
            feats = g["input_features_valid"].float()  # (1, mels, frames)
            item["input_features"] = feats
            item["feature_attention_mask"] = torch.ones(1, feats.shape[2], dtype=torch.long)
        else:
            item["input_ids"] = ids[None]
        if "video" in modality:
            item["pixel_values_videos"] = g["pixel_values_videos"].float()
            item["video_grid_thw"] = g["video_grid_thw"].long()
            item["video_second_per_grid"] = g["video_second_per_grid"].float()
    ids = item["input_ids"]
    mask = torch.ones_like(ids)
    audio_seqlens = item["feature_attention_mask"].sum(-1) if "input_features" in item else None
    pos, _ = thinker.get_rope_index(
        ids,
        None,
        item.get("video_grid_thw"),
        mask,
        False,
        audio_seqlens,
        item.get("video_second_per_grid"),
    )
    item["position_ids"] = pos  # (3, 1, L)
    return item


@torch.inference_mode()
def run(item):
    ids = item["input_ids"]
    embeds = thinker.get_input_embeddings()(ids)
    if "input_features" in item:
        audio = thinker.get_audio_features(
            item["input_features"], feature_attention_mask=item["feature_attention_mask"]
        )
        mask = (ids == cfg.audio_token_id).unsqueeze(-1).expand_as(embeds)
        embeds = embeds.masked_scatter(mask, audio)
    if "pixel_values_videos" in item:
        video = thinker.get_video_features(item["pixel_values_videos"], item["video_grid_thw"])
        mask = (ids == cfg.video_token_id).unsqueeze(-1).expand_as(embeds)
        embeds = embeds.masked_scatter(mask, video)
    out = thinker.model(
        inputs_embeds=embeds,
        position_ids=item["position_ids"],
        attention_mask=torch.ones_like(ids),
        use_cache=False,
    )
    return out.last_hidden_state[0, -1]


tensors, results = {}, {}
for modality in ["text", "audio", "video", "audio-video"]:
    item = build(modality)
    last = run(item)  # warm-up
    iters, start = 0, time.perf_counter()
    while iters < a.min_iters or time.perf_counter() - start < a.seconds:
        run(item)
        iters += 1
    elapsed = time.perf_counter() - start
    results[modality] = {"items_per_s": iters / elapsed, "iters": iters,
                         "tokens": int(item["input_ids"].shape[1])}
    key = modality.replace("-", "_")
    tensors[f"{key}.input_ids"] = item["input_ids"][0]
    tensors[f"{key}.position_ids"] = item["position_ids"][:, 0, :].contiguous()
    tensors[f"{key}.last_hidden"] = last.contiguous()
    if "input_features" in item:
        tensors[f"{key}.input_features"] = item["input_features"][0].contiguous()
    if "pixel_values_videos" in item:
        tensors[f"{key}.pixel_values_videos"] = item["pixel_values_videos"].contiguous()
        tensors[f"{key}.video_grid_thw"] = item["video_grid_thw"][0].contiguous()
save_file(tensors, a.out)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                  "results": results}))
