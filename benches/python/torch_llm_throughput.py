"""The PyTorch peer of engine/examples/llm_throughput.rs: transformers' Qwen2 decoder (the LLM of
the Qwen2.5-Omni thinker, WAVE-7B's shape by default) on random weights, timed on the same batch of
token ids with the same FLOP count, so the two printouts can be divided.

Like for like: the decoder layers and the final norm, no LM head (WAVE reads hidden states, not
logits); plain 1-D RoPE here against M-RoPE on sequential positions there (the same rotation for
text); SDPA attention with the causal mask. bf16, or f32 with TF32 matmuls (what burn's CUDA
backend runs f32 matmuls as).

Prints one line per pass kind, in the Rust example's words, and a JSON object last.
"""
import argparse, json, time

import torch
from transformers import Qwen2Config, Qwen2Model

p = argparse.ArgumentParser()
p.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
p.add_argument("--batch", type=int, default=4)
p.add_argument("--seq", type=int, default=1024)
p.add_argument("--iters", type=int, default=3)
p.add_argument("--layers", type=int, default=28)
p.add_argument("--hidden", type=int, default=3584)
p.add_argument("--intermediate", type=int, default=18944)
p.add_argument("--heads", type=int, default=28)
p.add_argument("--kv-heads", type=int, default=4)
p.add_argument("--vocab", type=int, default=152064)
p.add_argument("--peak-tflops", type=float, default=None)
a = p.parse_args()

dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
cfg = Qwen2Config(
    vocab_size=a.vocab,
    hidden_size=a.hidden,
    intermediate_size=a.intermediate,
    num_hidden_layers=a.layers,
    num_attention_heads=a.heads,
    num_key_value_heads=a.kv_heads,
    rms_norm_eps=1e-6,
    rope_theta=1_000_000.0,
    attn_implementation="sdpa",
)
start = time.perf_counter()
torch.manual_seed(0)
with torch.device("cuda"):
    model = Qwen2Model(cfg).to(dtype).eval()
torch.cuda.synchronize()
params = sum(t.numel() for t in model.parameters())
embedding = a.vocab * a.hidden
print(
    f"torch {torch.__version__} on {torch.cuda.get_device_name()} ({a.dtype}): {a.layers} layers, "
    f"hidden {a.hidden}, {params / 1e9:.2f} B parameters ({(params - embedding) / 1e9:.2f} B in "
    f"the decoder), drawn in {time.perf_counter() - start:.1f} s"
)

ids = (torch.arange(a.batch * a.seq, device="cuda") * 7919 % a.vocab).reshape(a.batch, a.seq)


def forward():
    with torch.inference_mode():
        model(input_ids=ids, use_cache=False)
    torch.cuda.synchronize()


warm = time.perf_counter()
forward()
print(f"warm-up pass: {time.perf_counter() - warm:.2f} s")
start = time.perf_counter()
for _ in range(a.iters):
    forward()
seconds = (time.perf_counter() - start) / a.iters

head_dim = a.hidden / a.heads
attention = 4.0 * a.seq * a.seq * a.heads * head_dim * a.layers
flops = a.batch * (2.0 * (params - embedding) * a.seq + attention)
tokens = a.batch * a.seq
achieved = flops / seconds / 1e12
print(
    f"batch {a.batch} × {a.seq} tokens: {seconds:.3f} s per forward, {tokens / seconds:.0f} "
    f"tokens/s, {achieved:.2f} TFLOP/s"
)
if a.peak_tflops:
    print(f"share of peak: {100 * achieved / a.peak_tflops:.1f} % of {a.peak_tflops} TFLOP/s")
print(json.dumps({"dtype": a.dtype, "seconds": seconds, "tokens_per_s": tokens / seconds,
                  "tflops": achieved}))
