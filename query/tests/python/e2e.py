#!/usr/bin/env python3
"""End-to-end test of `wave serve` with an independent client: Python grpcio, no .proto file.

Every message class comes from the server's reflection service. Starts real servers (the
`wave` binary) on free ports and checks every RPC, health, reflection, auth, bad requests,
a bounded concurrent load, writes during searches, prompt-aware re-embedding, metrics, the
`wave search` CLI, graceful shutdown and TLS (a self-signed certificate made with the openssl CLI).

Usage: e2e.py --wave PATH/TO/wave --model MODEL_DIR --workdir DIR
Exit status 0 when every check passes.
"""

import argparse
import io
import json
import math
import os
import random
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import wave as wavfile

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

CHECKS = []


def check(name):
    def wrap(fn):
        CHECKS.append((name, fn))
        return fn

    return wrap


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---------------------------------------------------------------- media


def tone_wav(freq, seconds=1.0, rate=16000, seed=0, am=0.0):
    rnd = random.Random(seed)
    n = int(seconds * rate)
    frames = bytearray()
    for i in range(n):
        t = i / rate
        env = 1.0 + am * math.sin(2 * math.pi * 3 * t)
        x = 0.4 * env * math.sin(2 * math.pi * freq * t) + 0.05 * rnd.gauss(0, 1)
        frames += struct.pack("<h", max(-32767, min(32767, int(x * 32767))))
    buf = io.BytesIO()
    with wavfile.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def video_bytes(workdir, name, with_audio, pattern="testsrc"):
    path = os.path.join(workdir, name)
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=size=64x48:rate=4"]
    if with_audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=660:sample_rate=16000"]
    cmd += ["-t", "1.5", "-pix_fmt", "yuv420p"]
    if with_audio:
        cmd += ["-shortest"]
    cmd += [path]
    subprocess.run(cmd, check=True)
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- server


class Server:
    def __init__(self, wave, model, db, extra=(), env=None):
        self.db = db
        args = [wave, "serve", "--db", db, "--addr", "127.0.0.1:0", "--model", model,
                "--metrics-addr", "127.0.0.1:0", *extra]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "WAVE_LOG": "info", **(env or {})},
        )
        self.addr = self.metrics = None
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server exited: " + self.proc.stderr.read()[-3000:])
            if line.startswith("listening on "):
                self.addr = line.split()[-1]
            if line.startswith("metrics on "):
                self.metrics = line.split()[-1]
                break
        expect(self.addr and self.metrics, "server did not report its addresses")
        # Drain stderr so the server never blocks on a full pipe.
        self.log = []
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rest = self.proc.stdout.read()
        code = self.proc.wait(timeout=30)
        return code, rest


class Client:
    """A dynamic client: message classes from the server's reflection service."""

    def __init__(self, addr, token=None, credentials=None):
        options = [("grpc.max_receive_message_length", 64 << 20)]
        if credentials is None:
            self.channel = grpc.insecure_channel(addr, options=options)
        else:
            self.channel = grpc.secure_channel(addr, credentials, options=options)
        self.db = ProtoReflectionDescriptorDatabase(self.channel)
        self.pool = DescriptorPool(self.db)
        self.metadata = [("authorization", f"Bearer {token}")] if token else []

    def msg(self, name, **kw):
        return GetMessageClass(self.pool.FindMessageTypeByName("wave.v1." + name))(**kw)

    def cls(self, name):
        return GetMessageClass(self.pool.FindMessageTypeByName("wave.v1." + name))

    def call(self, method, request, timeout=60, metadata=None):
        svc = self.pool.FindServiceByName("wave.v1.Wave")
        m = svc.FindMethodByName(method)
        out = GetMessageClass(m.output_type)
        fn = self.channel.unary_unary(
            f"/wave.v1.Wave/{method}",
            request_serializer=lambda r: r.SerializeToString(),
            response_deserializer=out.FromString,
        )
        return fn(request, timeout=timeout, metadata=self.metadata if metadata is None else metadata)

    def upsert(self, items, chunk=16384, timeout=120, metadata=None):
        """items: list of (UpsertItem kwargs, media bytes or b'')."""
        Req = self.cls("UpsertRequest")
        Item = self.cls("UpsertItem")

        def parts():
            for header, data in items:
                yield Req(item=Item(**header))
                for i in range(0, len(data), chunk):
                    yield Req(chunk=data[i:i + chunk])

        fn = self.channel.stream_unary(
            "/wave.v1.Wave/Upsert",
            request_serializer=lambda r: r.SerializeToString(),
            response_deserializer=self.cls("UpsertResponse").FromString,
        )
        return fn(parts(), timeout=timeout, metadata=self.metadata if metadata is None else metadata)

    def search(self, **kw):
        timeout = kw.pop("timeout", 60)
        return self.call("Search", self.msg("SearchRequest", **kw), timeout=timeout)

    def embed(self, *queries):
        return [list(v.values) for v in self.call("Embed", self.msg("EmbedRequest", inputs=list(queries))).vectors]


def code_of(fn):
    try:
        fn()
    except grpc.RpcError as e:
        return e.code(), e.details()
    return grpc.StatusCode.OK, ""


def expect_code(fn, code, what):
    got, details = code_of(fn)
    expect(got == code, f"{what}: expected {code}, got {got} ({details})")
    expect(code == grpc.StatusCode.OK or details, f"{what}: status without a message")
    return details


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


# ---------------------------------------------------------------- fixtures

AUDIO_FREQS = [220, 330, 440, 550, 700, 880, 1000, 1320]
TEXTS = {
    "t-dog": ("A dog barking", "a small dog barks at the mailman in the park"),
    "t-piano": ("Piano concert", "solo piano music recorded live in a concert hall"),
    "t-rain": ("Rain on a roof", "heavy rain falling on a tin roof at night"),
    "t-train": ("Train passing", "a freight train passes a crossing, horn blowing"),
}


def corpus(workdir):
    items = []
    for tid, (title, caption) in TEXTS.items():
        items.append(({"id": tid, "modality": 1, "title": title, "caption": caption,
                       "tags": ["text", "demo"]}, b""))
    audio = {}
    for i, f in enumerate(AUDIO_FREQS):
        data = tone_wav(f, seconds=1.0 + 0.25 * (i % 3), seed=i, am=0.5 * (i % 2))
        audio[f"a-{f}"] = data
        items.append(({"id": f"a-{f}", "modality": 2, "format": "wav",
                       "source": f"client://sounds/tone-{f}.wav",
                       "title": f"tone {f} Hz", "tags": ["tone", "low" if f < 600 else "high"],
                       "start": 0.0, "end": 1.0 + 0.25 * (i % 3)}, data))
    silent = video_bytes(workdir, "silent.mp4", with_audio=False)
    av = video_bytes(workdir, "av.mp4", with_audio=True, pattern="smptebars")
    items.append(({"id": "v-silent", "modality": 3, "format": "mp4", "title": "test pattern"}, silent))
    items.append(({"id": "v-av", "modality": 4, "format": "mp4", "title": "bars and tone"}, av))
    return items, audio, {"silent": silent, "av": av}


# ---------------------------------------------------------------- checks


@check("reflection lists the services and resolves every message")
def t_reflection(ctx):
    c = ctx["client"]
    services = set(c.db.get_services())
    for s in ["wave.v1.Wave", "grpc.health.v1.Health"]:
        expect(s in services, f"{s} not in reflection: {services}")
    svc = c.pool.FindServiceByName("wave.v1.Wave")
    methods = {m.name for m in svc.methods}
    expect(methods == {"Search", "Embed", "Upsert", "Delete", "Get", "Stats"}, f"methods {methods}")
    expect(svc.FindMethodByName("Upsert").client_streaming, "Upsert must be client-streaming")


@check("health: SERVING overall and for wave.v1.Wave")
def t_health(ctx):
    stub = health_pb2_grpc.HealthStub(ctx["client"].channel)
    for name in ["", "wave.v1.Wave"]:
        r = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
        expect(r.status == health_pb2.HealthCheckResponse.SERVING, f"health {name!r}: {r.status}")
    expect_code(lambda: stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=10),
                grpc.StatusCode.NOT_FOUND, "health of an unknown service")


@check("Upsert (client-streaming, chunked media) then Stats and Get")
def t_upsert(ctx):
    c = ctx["client"]
    r = c.upsert(ctx["items"])
    expect(list(r.ids) == [h["id"] for h, _ in ctx["items"]], f"ids {list(r.ids)}")
    expect(r.seq > 0, "seq")
    s = c.call("Stats", c.msg("StatsRequest"))
    expect(s.items == len(ctx["items"]), f"stats items {s.items}")
    expect(s.live_vectors == len(ctx["items"]), f"live vectors {s.live_vectors}")
    expect(s.dim > 0 and s.model, "stats dim/model")
    ctx["dim"] = s.dim
    g = c.call("Get", c.msg("GetRequest", id="a-440", with_vector=True))
    expect(g.item.modality == 2 and g.item.source == "client://sounds/tone-440.wav", str(g.item))
    expect(g.item.content_hash.startswith("sha256:"), "content hash")
    expect(list(g.item.tags) == ["tone", "low"], "tags")
    expect(len(g.vector.values) == s.dim, "vector dim")
    expect(abs(dot(g.vector.values, g.vector.values) - 1) < 1e-4, "unit vector")
    g = c.call("Get", c.msg("GetRequest", id="v-av"))
    expect(g.item.modality == 4, f"v-av stored as {g.item.modality}")
    g = c.call("Get", c.msg("GetRequest", id="v-silent"))
    expect(g.item.modality == 3, f"v-silent stored as {g.item.modality}")
    expect_code(lambda: c.call("Get", c.msg("GetRequest", id="no-such-item")),
                grpc.StatusCode.NOT_FOUND, "Get unknown id")


@check("Embed: text, audio with and without prompt, video; unit vectors of the store's dim")
def t_embed(ctx):
    c = ctx["client"]
    a = ctx["audio"]["a-440"]
    vs = c.embed(
        c.msg("Query", text="a dog barks"),
        c.msg("Query", audio=c.msg("Media", data=a, format="wav")),
        c.msg("Query", audio=c.msg("Media", data=a, format="wav"), prompt="Is there speech?"),
        c.msg("Query", video=c.msg("Media", data=ctx["video"]["silent"], format="mp4")),
    )
    for v in vs:
        expect(len(v) == ctx["dim"] and abs(dot(v, v) - 1) < 1e-4, "embed vector")
    expect(max(abs(x - y) for x, y in zip(vs[1], vs[2])) > 1e-6, "the prompt must change the audio embedding")
    # The stored vector of a-440 is the embedding of the same bytes.
    g = c.call("Get", c.msg("GetRequest", id="a-440", with_vector=True))
    expect(dot(g.vector.values, vs[1]) > 0.9999, "stored vector == Embed of the same media")


@check("Search: vector ranking equals cosine against stored vectors (text -> any modality)")
def t_search_vector(ctx):
    c = ctx["client"]
    q = c.embed(c.msg("Query", text="a dog barks"))[0]
    r = c.search(query=c.msg("Query", text="a dog barks"), top_k=20,
                 hybrid=c.msg("Hybrid", bm25=False))
    expect(len(r.results) == len(ctx["items"]), f"{len(r.results)} results")
    scores = []
    for res in r.results:
        v = c.call("Get", c.msg("GetRequest", id=res.id, with_vector=True)).vector.values
        expected = dot(q, v)
        expect(abs(res.stages.vector_score - expected) < 1e-4, f"{res.id}: {res.stages.vector_score} vs {expected}")
        expect(not res.stages.HasField("bm25_score"), "bm25 off")
        scores.append(res.score)
    expect(scores == sorted(scores, reverse=True), "sorted by score")
    mods = {res.modality for res in r.results}
    expect(mods == {1, 2, 3, 4}, f"cross-modal results {mods}")


@check("Search: hybrid BM25 on by default for text; per-stage scores and ranks")
def t_search_hybrid(ctx):
    c = ctx["client"]
    r = c.search(query=c.msg("Query", text="piano concert hall"), top_k=5)
    top = r.results[0]
    expect(top.id == "t-piano", f"top {top.id}")
    expect(top.stages.bm25_rank == 1 and top.stages.bm25_score > 0, str(top.stages))
    expect(top.stages.HasField("vector_rank") and top.stages.fused_rank == 1, str(top.stages))
    expect(top.title == "Piano concert" and "concert hall" in top.caption, "text fields")
    for fusion in [1, 2, 3]:
        r = c.search(query=c.msg("Query", text="piano concert hall"), top_k=5,
                     hybrid=c.msg("Hybrid", fusion=fusion, bm25_weight=0.9, rrf_k=10))
        expect(r.results[0].id == "t-piano", f"fusion {fusion}: top {r.results[0].id}")
    # BM25 weight 0 with normalised fusion: the vector order.
    r0 = c.search(query=c.msg("Query", text="piano concert hall"), top_k=12,
                  hybrid=c.msg("Hybrid", bm25=False))
    r1 = c.search(query=c.msg("Query", text="piano concert hall"), top_k=12,
                  hybrid=c.msg("Hybrid", fusion=3, bm25_weight=0.0))
    expect([x.id for x in r0.results] == [x.id for x in r1.results], "weight 0 = vector order")


@check("Search: audio bytes, video bytes and item-id queries; modality filter")
def t_search_media(ctx):
    c = ctx["client"]
    r = c.search(query=c.msg("Query", audio=c.msg("Media", data=ctx["audio"]["a-880"], format="wav")),
                 modalities=[2], top_k=5)
    expect(all(x.modality == 2 for x in r.results), "only audio")
    expect(r.results[0].id == "a-880" and r.results[0].score > 0.9999, f"top {r.results[0].id} {r.results[0].score}")
    expect(r.results[0].HasField("start") and r.results[0].end > r.results[0].start, "span")
    r = c.search(query=c.msg("Query", video=c.msg("Media", data=ctx["video"]["av"], format="mp4")), top_k=3)
    expect(r.results[0].id == "v-av", f"video query top {r.results[0].id}")
    r = c.search(query=c.msg("Query", item_id="a-440"), top_k=30)
    ids = [x.id for x in r.results]
    expect("a-440" not in ids and len(ids) == len(ctx["items"]) - 1, f"item query {ids}")
    v = c.call("Get", c.msg("GetRequest", id="a-440", with_vector=True)).vector
    r2 = c.search(query=c.msg("Query", vector=v), top_k=30)
    expect([x.id for x in r2.results][1:] == ids, "vector query == item query + itself")


@check("Search: filters on tags, source prefix and time range")
def t_filters(ctx):
    c = ctx["client"]
    q = c.msg("Query", item_id="a-220")
    r = c.search(query=q, top_k=20, filter=c.msg("Filter", tags=["tone", "high"]))
    expect(r.results and all("high" in x.tags for x in r.results), "tag filter")
    r = c.search(query=q, top_k=20, filter=c.msg("Filter", sources=["client://sounds/tone-1"]))
    expect(sorted(x.id for x in r.results) == ["a-1000", "a-1320"], f"source filter {[x.id for x in r.results]}")
    r = c.search(query=q, top_k=20, filter=c.msg("Filter", time_range=c.msg("TimeRange", start=1.2, end=5)))
    expect(r.results and all(x.end >= 1.2 for x in r.results), "time filter")


@check("Re-embedding: the prompt re-ranks the top N exactly as the model's cosine says; cached")
def t_rerank(ctx):
    c = ctx["client"]
    qtext = "a tone"
    qv = c.embed(c.msg("Query", text=qtext))[0]
    audio_ids = [f"a-{f}" for f in AUDIO_FREQS if f"a-{f}" in ctx["live_audio"]]
    first = c.search(query=c.msg("Query", text=qtext), modalities=[2], top_k=len(audio_ids),
                     hybrid=c.msg("Hybrid", bm25=False))
    first_order = [x.id for x in first.results]
    changed = 0
    for prompt in ["Is there a high pitched sound?", "How many beeps are there?", "Describe the rhythm."]:
        n = len(audio_ids)
        r = c.search(query=c.msg("Query", text=qtext, prompt=prompt), modalities=[2], top_k=n,
                     hybrid=c.msg("Hybrid", bm25=False), rerank=c.msg("Rerank", top_n=n, budget_ms=60000))
        expect(r.reembedded == n and not r.reembed_budget_exhausted, f"reembedded {r.reembedded}")
        # Independently: embed each candidate's media with the prompt, cosine with the query.
        expected = {}
        for aid in audio_ids:
            v = c.embed(c.msg("Query", audio=c.msg("Media", data=ctx["audio"][aid], format="wav"), prompt=prompt))[0]
            expected[aid] = dot(qv, v)
        want = sorted(audio_ids, key=lambda i: (-expected[i], i))
        got = [x.id for x in r.results]
        expect(got == want, f"prompt {prompt!r}: got {got}, model says {want}")
        for i, x in enumerate(r.results):
            expect(abs(x.stages.rerank_score - expected[x.id]) < 1e-4, f"{x.id} rerank score")
            expect(x.stages.rerank_rank == i + 1 and abs(x.score - x.stages.rerank_score) < 1e-7, "rerank rank")
            expect(x.stages.HasField("vector_score"), "first-stage score kept")
        changed += got != first_order
        again = c.search(query=c.msg("Query", text=qtext, prompt=prompt), modalities=[2], top_k=n,
                         hybrid=c.msg("Hybrid", bm25=False), rerank=c.msg("Rerank", top_n=n))
        expect(again.reembed_cache_hits == n, f"cache hits {again.reembed_cache_hits}")
        expect([x.id for x in again.results] == got, "cached ranking")
    expect(changed > 0, "no prompt changed the first-stage ranking")
    # Budget: 1 ms with a fresh prompt cannot re-embed all of them; the rest keep their order.
    r = c.search(query=c.msg("Query", text=qtext, prompt="fresh prompt for the budget"), modalities=[2],
                 top_k=len(audio_ids), hybrid=c.msg("Hybrid", bm25=False),
                 rerank=c.msg("Rerank", top_n=len(audio_ids), budget_ms=1))
    expect(r.reembed_budget_exhausted and r.reembedded < len(audio_ids), f"budget: {r.reembedded}")
    expect(len(r.results) == len(audio_ids), "all results still returned")


@check("Bad requests: precise status codes with messages")
def t_bad(ctx):
    c = ctx["client"]
    S = grpc.StatusCode
    expect_code(lambda: c.search(), S.INVALID_ARGUMENT, "no query")
    expect_code(lambda: c.search(query=c.msg("Query")), S.INVALID_ARGUMENT, "empty query")
    expect_code(lambda: c.search(query=c.msg("Query", text="   ")), S.INVALID_ARGUMENT, "blank text")
    expect_code(lambda: c.search(query=c.msg("Query", text="x"), top_k=1_000_000), S.INVALID_ARGUMENT, "absurd top_k")
    expect_code(lambda: c.search(query=c.msg("Query", item_id="ghost")), S.NOT_FOUND, "unknown item")
    garbage = bytes(random.Random(7).getrandbits(8) for _ in range(5000))
    d = expect_code(lambda: c.search(query=c.msg("Query", audio=c.msg("Media", data=garbage, format="wav"))),
                    S.INVALID_ARGUMENT, "garbage audio")
    expect("media" in d, d)
    expect_code(lambda: c.search(query=c.msg("Query", video=c.msg("Media", data=garbage, format="mp4"))),
                S.INVALID_ARGUMENT, "garbage video")
    expect_code(lambda: c.search(query=c.msg("Query", audio=c.msg("Media", data=b"", format="wav"))),
                S.INVALID_ARGUMENT, "empty media")
    expect_code(lambda: c.search(query=c.msg("Query", vector=c.msg("Vector", values=[1.0, 2.0]))),
                S.INVALID_ARGUMENT, "wrong dimension")
    expect_code(lambda: c.search(query=c.msg("Query", text="x"), rerank=c.msg("Rerank", top_n=5)),
                S.INVALID_ARGUMENT, "rerank without prompt")
    expect_code(lambda: c.search(query=c.msg("Query", item_id="a-220"), hybrid=c.msg("Hybrid", bm25=True)),
                S.INVALID_ARGUMENT, "bm25 without text")
    expect_code(lambda: c.call("Embed", c.msg("EmbedRequest")), S.INVALID_ARGUMENT, "embed nothing")
    # A failing upsert writes nothing: the good item in the same stream is not stored.
    before = c.call("Stats", c.msg("StatsRequest")).items
    expect_code(lambda: c.upsert([({"id": "ok-1", "modality": 1, "title": "fine"}, b""),
                                  ({"id": "bad-1", "modality": 2, "format": "wav"}, garbage)]),
                S.INVALID_ARGUMENT, "upsert garbage media")
    expect_code(lambda: c.call("Get", c.msg("GetRequest", id="ok-1")), S.NOT_FOUND, "atomic upsert")
    expect(c.call("Stats", c.msg("StatsRequest")).items == before, "nothing written")
    expect_code(lambda: c.upsert([({"id": "", "modality": 1, "title": "x"}, b"")]), S.INVALID_ARGUMENT, "empty id")
    expect_code(lambda: c.upsert([({"id": "m", "modality": 2}, b"")]), S.INVALID_ARGUMENT, "media without bytes")
    # Oversized: the server runs with --max-message-bytes 4 MiB; a message over it is refused
    # before it is decoded, with RESOURCE_EXHAUSTED naming the limit and the size.
    big = b"\0" * (5 << 20)
    d = expect_code(lambda: c.search(query=c.msg("Query", audio=c.msg("Media", data=big, format="wav"))),
                    S.RESOURCE_EXHAUSTED, "oversized message")
    sizes = [int(n) for n in re.findall(r"\d+", d)]
    expect(4 << 20 in sizes and any(n > 5 << 20 for n in sizes), f"oversized message details: {d}")
    # One Upsert chunk over the limit: the same, and nothing is written.
    d = expect_code(lambda: c.upsert([({"id": "big-chunk", "modality": 2, "format": "wav"}, big)], chunk=5 << 20),
                    S.RESOURCE_EXHAUSTED, "oversized upsert chunk")
    expect(str(4 << 20) in d, f"oversized chunk details: {d}")
    expect_code(lambda: c.call("Get", c.msg("GetRequest", id="big-chunk")), S.NOT_FOUND, "oversized chunk stored")
    # The server goes on serving, on the same channel.
    expect(c.call("Stats", c.msg("StatsRequest")).items == before, "stats after oversized messages")
    # Oversized upload stream: --max-upload-bytes 8 MiB in 1 MiB chunks.
    expect_code(lambda: c.upsert([({"id": "huge", "modality": 2, "format": "wav"}, b"\0" * (9 << 20))], chunk=1 << 20),
                S.RESOURCE_EXHAUSTED, "oversized upload")
    # Deadline: 1 ms is too short for a re-embedding search.
    got, _ = code_of(lambda: c.search(query=c.msg("Query", text="a tone", prompt="deadline"), modalities=[2],
                                      rerank=c.msg("Rerank", top_n=8), timeout=0.001))
    expect(got == S.DEADLINE_EXCEEDED, f"deadline: {got}")


@check("Delete: removes items from Get and Search; unknown ids counted")
def t_delete(ctx):
    c = ctx["client"]
    r = c.call("Delete", c.msg("DeleteRequest", ids=["a-1320", "never-existed"]))
    expect(r.deleted == 1 and r.not_found == 1, str(r))
    ctx["live_audio"].discard("a-1320")
    expect_code(lambda: c.call("Get", c.msg("GetRequest", id="a-1320")), grpc.StatusCode.NOT_FOUND, "deleted")
    r = c.search(query=c.msg("Query", audio=c.msg("Media", data=ctx["audio"]["a-1320"], format="wav")), top_k=50)
    expect("a-1320" not in [x.id for x in r.results], "deleted item in results")
    expect_code(lambda: c.call("Delete", c.msg("DeleteRequest")), grpc.StatusCode.INVALID_ARGUMENT, "delete nothing")


@check("Load: 16 clients x 200 searches with zero errors, while upserts run and stay visible")
def t_load(ctx):
    c = ctx["client"]
    errors, latencies = [], []
    lock = threading.Lock()
    ids = [h["id"] for h, _ in ctx["items"] if h["id"] in ctx["live_ids"]]
    dim = ctx["dim"]
    stop = threading.Event()

    def writer():
        rnd = random.Random(1)
        n = 0
        while not stop.is_set() and n < 200:
            v = [rnd.gauss(0, 1) for _ in range(dim)]
            iid = f"w-{n}"
            try:
                c.upsert([({"id": iid, "modality": 1, "title": f"written {n}", "vector": c.msg("Vector", values=v)}, b"")])
                # Acknowledged, so visible: a search for its own vector finds it first.
                r = c.search(query=c.msg("Query", vector=c.msg("Vector", values=v)), top_k=1)
                if r.results[0].id != iid:
                    raise AssertionError(f"acknowledged write {iid} not visible: {r.results[0].id}")
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"writer: {e}")
                return
            n += 1

    def reader(k):
        rnd = random.Random(100 + k)
        for i in range(200):
            t = time.perf_counter()
            try:
                if i % 20 == 0:
                    c.search(query=c.msg("Query", text=rnd.choice(["dog", "piano", "rain"])), top_k=5)
                else:
                    c.search(query=c.msg("Query", item_id=rnd.choice(ids)), top_k=10)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"reader {k}: {e}")
            with lock:
                latencies.append(time.perf_counter() - t)

    w = threading.Thread(target=writer)
    w.start()
    readers = [threading.Thread(target=reader, args=(k,)) for k in range(16)]
    t0 = time.time()
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    w.join()
    expect(not errors, f"{len(errors)} errors, first: {errors[:3]}")
    expect(len(latencies) == 3200, f"{len(latencies)} searches")
    latencies.sort()
    print(f"    3200 searches in {time.time() - t0:.1f}s, p50 {latencies[1600] * 1e3:.1f} ms, "
          f"p99 {latencies[3168] * 1e3:.1f} ms")


@check("Metrics: Prometheus text with request counts and latency histograms")
def t_metrics(ctx):
    body = urllib.request.urlopen(ctx["server"].metrics, timeout=10).read().decode()
    for needle in ['wave_requests_total{method="Search",code="Ok"}',
                   'wave_requests_total{method="Search",code="InvalidArgument"}',
                   'wave_request_duration_seconds_bucket{method="Search",le="+Inf"}',
                   "wave_store_items", "wave_reembed_cache_hits_total"]:
        expect(needle in body, f"metrics lack {needle}")


@check("wave search CLI against the server, with --json")
def t_cli(ctx):
    out = subprocess.run([ctx["wave"], "search", "--server", "http://" + ctx["server"].addr,
                          "--text", "piano concert hall", "--top-k", "3", "--json"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    r = json.loads(out)
    expect(r["results"][0]["id"] == "t-piano", out[:500])
    expect(r["results"][0]["stages"]["bm25_rank"] == 1, "stages in JSON")


def auth_checks(args, workdir):
    db = os.path.join(workdir, "db-auth")
    srv = Server(args.wave, args.model, db, env={"WAVE_TOKEN": "s3cret"})
    try:
        S = grpc.StatusCode
        anon = Client(srv.addr)
        expect_code(lambda: anon.call("Stats", anon.msg("StatsRequest")), S.UNAUTHENTICATED, "no token")
        wrong = Client(srv.addr, token="nope")
        expect_code(lambda: wrong.call("Stats", wrong.msg("StatsRequest")), S.UNAUTHENTICATED, "wrong token")
        expect_code(lambda: wrong.upsert([({"id": "x", "modality": 1, "title": "x"}, b"")]),
                    S.UNAUTHENTICATED, "upsert without the token")
        ok = Client(srv.addr, token="s3cret")
        ok.upsert([({"id": "x", "modality": 1, "title": "hello world"}, b"")])
        r = ok.search(query=ok.msg("Query", text="hello"))
        expect(r.results[0].id == "x", "authorized search")
        # Health and reflection stay open for probes and generic clients.
        stub = health_pb2_grpc.HealthStub(anon.channel)
        expect(stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
               == health_pb2.HealthCheckResponse.SERVING, "health without token")
        out = subprocess.run([args.wave, "search", "--server", "http://" + srv.addr, "--text", "hello", "--json"],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "WAVE_TOKEN": "s3cret"})
        expect(out.returncode == 0 and json.loads(out.stdout)["results"][0]["id"] == "x", out.stderr[-500:])
        out = subprocess.run([args.wave, "search", "--server", "http://" + srv.addr, "--text", "hello"],
                             capture_output=True, text=True, timeout=120,
                             env={k: v for k, v in os.environ.items() if k != "WAVE_TOKEN"})
        expect(out.returncode != 0 and "Unauthenticated" in out.stderr, out.stderr[-500:])
    finally:
        code, _ = srv.stop()
    expect(code == 0, f"auth server exit {code}")


def self_signed_cert(workdir, name):
    """A fresh self-signed certificate for 127.0.0.1 and localhost (the openssl CLI)."""
    cert, key = os.path.join(workdir, name + ".crt"), os.path.join(workdir, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=wave test server",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    # A server (not CA) certificate: rustls refuses a CA certificate as the peer.
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "extendedKeyUsage=serverAuth"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def tls_checks(args, workdir):
    cert, key = self_signed_cert(workdir, "server")
    stranger, _ = self_signed_cert(workdir, "stranger")
    srv = Server(args.wave, args.model, os.path.join(workdir, "db-tls"),
                 extra=["--tls-cert", cert, "--tls-key", key])
    S = grpc.StatusCode
    try:
        with open(cert, "rb") as f:
            trusted = grpc.ssl_channel_credentials(root_certificates=f.read())
        c = Client(srv.addr, credentials=trusted)
        c.upsert([({"id": "tls-1", "modality": 1, "title": "encrypted greeting",
                    "caption": "sent over TLS"}, b"")])
        expect(c.call("Stats", c.msg("StatsRequest")).items == 1, "stats over TLS")
        r = c.search(query=c.msg("Query", text="encrypted greeting"), top_k=3)
        expect([x.id for x in r.results] == ["tls-1"], f"search over TLS: {[x.id for x in r.results]}")

        def raw_stats(channel):
            # StatsRequest is empty: its encoding is no bytes, so no reflection is needed.
            return channel.unary_unary("/wave.v1.Wave/Stats", request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)(b"", timeout=10)

        got, details = code_of(lambda: raw_stats(grpc.insecure_channel(srv.addr)))
        expect(got == S.UNAVAILABLE, f"plaintext client on the TLS port: {got} {details}")
        with open(stranger, "rb") as f:
            untrusting = grpc.secure_channel(srv.addr, grpc.ssl_channel_credentials(root_certificates=f.read()))
        got, details = code_of(lambda: raw_stats(untrusting))
        expect(got == S.UNAVAILABLE, f"client trusting another certificate: {got} {details}")
        # The CLI client: https:// with --ca-cert works; without it the server is not trusted.
        url = "https://" + srv.addr
        out = subprocess.run([args.wave, "search", "--server", url, "--ca-cert", cert,
                              "--text", "encrypted greeting", "--json"],
                             capture_output=True, text=True, timeout=120)
        expect(out.returncode == 0 and json.loads(out.stdout)["results"][0]["id"] == "tls-1", out.stderr[-500:])
        out = subprocess.run([args.wave, "search", "--server", url, "--text", "encrypted greeting"],
                             capture_output=True, text=True, timeout=120)
        expect(out.returncode != 0, "wave search trusted a self-signed server without --ca-cert")
    finally:
        code, _ = srv.stop()
    expect(code == 0, f"TLS server exit {code}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wave", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    items, audio, video = corpus(args.workdir)
    db = os.path.join(args.workdir, "db")
    srv = Server(args.wave, args.model, db,
                 extra=["--max-message-bytes", str(4 << 20), "--max-upload-bytes", str(8 << 20)])
    ctx = {"client": Client(srv.addr), "items": items, "audio": audio, "video": video,
           "server": srv, "wave": args.wave, "live_audio": set(audio),
           "live_ids": {h["id"] for h, _ in items}}
    failed = 0
    try:
        for name, fn in CHECKS:
            t = time.time()
            try:
                fn(ctx)
                print(f"ok   {name} ({time.time() - t:.1f}s)", flush=True)
            except Exception as e:  # noqa: BLE001
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            if name.startswith("Delete"):
                ctx["live_ids"].discard("a-1320")
    finally:
        code, rest = srv.stop()
    try:
        expect(code == 0 and "stopped" in rest, f"graceful shutdown: exit {code}, stdout {rest!r}")
        print("ok   graceful shutdown on SIGTERM")
        # The store is closed cleanly: the CLI reads it directly (no model needed for an item query).
        out = subprocess.run([args.wave, "search", "--db", db, "--item", "a-220", "--json", "--top-k", "3"],
                             capture_output=True, text=True, timeout=120)
        expect(out.returncode == 0, out.stderr[-800:])
        r = json.loads(out.stdout)
        expect(len(r["results"]) == 3 and all(x["id"] != "a-220" for x in r["results"]), out.stdout[:300])
        print("ok   wave search --db on the closed store")
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL shutdown / local search: {e}")
    try:
        auth_checks(args, args.workdir)
        print("ok   auth on: UNAUTHENTICATED without/with a wrong token, OK with it; health open")
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL auth: {type(e).__name__}: {e}")
    try:
        tls_checks(args, args.workdir)
        print("ok   TLS: a client trusting the certificate searches; plaintext and untrusting clients fail")
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL TLS: {type(e).__name__}: {e}")
    if failed:
        print(f"{failed} check(s) failed; server log tail:\n" + "".join(srv.log[-40:]))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
