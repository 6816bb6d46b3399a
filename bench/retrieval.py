"""Section 3: retrieval latency at 1k, 10k and 100k chunks, on real Chroma stores built for the purpose.

How the big stores are built (embedding 100k chunks would take hours on 2 cores):

1. The FacQA passages (`passages.jsonl`, 1,328 passages) are read and chunked exactly as `kabar ingest`
   does (rag.documents + rag.chunking with the configured chunk size) — about 1,570 base chunks.
2. Their embedding texts (rag.ingest.embedding_text) are embedded once with the project's embedder;
   the vectors are cached in ~/.cache/kabar/bench/vectors-*.npy (keyed by text and embedder), taken from
   the ingest section's store when it holds them already.
3. A store of N chunks holds the base chunks, then copies 1, 2, … of them until N is reached. Copy c of a
   chunk has the vector normalize(v + N(0, SIGMA²·I)) (seeded by c) and the text with one word dropped,
   two neighbouring words swapped (positions derived from c) and " (salinan c)" appended, so BM25 sees
   distinct documents. Its id and source get the suffix "~c".
4. The chunks are written with the project's Store class (same collection and settings as ingest), and
   the BM25 index is built by the project's Retriever from the store, as at run time.

Stores are cached in ~/.cache/kabar/bench/stores/ and rebuilt when any input above changes.
Queries are the FacQA valid questions. Dense search is timed with precomputed query vectors; the
query-embedding time is timed on its own; "fused" is `Retriever.search` (dense + BM25 + fusion) with the
query vector cached, and "fused end to end" the same through a new embedder object (empty query cache).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BENCH_CACHE, FACQA_DIR, TARGETS, Results, fmt, log, p50_p95, timed
from rag.chunking import Chunk, chunk_document, make_splitter
from rag.config import Settings, load_settings
from rag.documents import ReadReport, iter_documents
from rag.ingest import embedding_text

# Chunks per embedding call, as `kabar ingest` does it (embedding.ingest_batch).
EMBED_BATCH = load_settings().embedding.ingest_batch


# Gaussian noise per dimension added to a copy's unit vector before re-normalising. For 384 dimensions
# the noise vector has norm ≈ 0.2, so a copy keeps a cosine similarity of ≈ 0.98 with its original.
SIGMA = 0.01
# Bumped whenever the way copies are made changes (invalidates cached stores).
PERTURBATION_VERSION = 1
# Chroma accepts at most ~5,400 records per call.
WRITE_BATCH = 5000
# Untimed queries per method before timing (first-query costs: page faults, lazy loads).
WARM_QUERIES = 5
MANIFEST = "bench-manifest.json"


# --- text and vector perturbation (pure, unit-tested) ---------------------------------------------

def perturb_text(text: str, copy: int) -> str:
    """Copy `copy` (≥ 1) of a chunk's text: one word dropped, two neighbours swapped, a copy tag appended.

    Deterministic: the positions come from `copy`, so the same store is built every time.
    """
    if copy <= 0:
        return text
    words = text.split()
    if len(words) > 2:
        del words[(copy * 7) % len(words)]
        j = (copy * 13 + 3) % (len(words) - 1)
        words[j], words[j + 1] = words[j + 1], words[j]
    return f"{' '.join(words)} (salinan {copy})"


def perturb_vectors(vectors: np.ndarray, copy: int, sigma: float = SIGMA) -> np.ndarray:
    """Copy `copy` (≥ 1) of unit row vectors: normalize(v + N(0, sigma)), seeded by `copy`."""
    if copy <= 0:
        return vectors
    rng = np.random.default_rng(copy)
    noisy = vectors + rng.normal(0.0, sigma, size=vectors.shape).astype(vectors.dtype)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def copy_chunk(chunk: Chunk, copy: int) -> Chunk:
    """The chunk record of copy `copy` (id and source suffixed with ~copy, text perturbed)."""
    if copy <= 0:
        return chunk
    meta = {**chunk.metadata, "source": f"{chunk.doc_id}~{copy}"}
    return replace(chunk, chunk_id=f"{chunk.chunk_id}~{copy}", doc_id=meta["source"],
                   text=perturb_text(chunk.text, copy), metadata=meta)


# --- base chunks and their vectors ---------------------------------------------------------------

def base_chunks(settings: Settings, passages: Path, limit: int | None = None) -> list[Chunk]:
    """The FacQA passages (the first `limit`) chunked as `kabar ingest` chunks them."""
    c = settings.chunking
    splitter = make_splitter(c.chunk_size, c.chunk_overlap)
    report = ReadReport()
    chunks: list[Chunk] = []
    for i, doc in enumerate(iter_documents([passages], settings.corpus.extensions,
                                           int(settings.corpus.max_file_mb * 2**20), report)):
        if limit is not None and i >= limit:
            break
        chunks.extend(chunk_document(doc, splitter, c.min_chunk_chars, doc.fingerprint))
    return chunks


def _key(embedder_name: str, text: str) -> str:
    return hashlib.sha1(f"{embedder_name}\x00{text}".encode()).hexdigest()


class VectorCache:
    """Passage vectors by (embedder, embedding text), kept in one .npy file plus its keys."""

    def __init__(self, folder: Path, embedder_name: str):
        slug = hashlib.sha1(embedder_name.encode()).hexdigest()[:10]
        self.npy = folder / f"vectors-{slug}.npy"
        self.keys_path = folder / f"vectors-{slug}.keys"
        self.name = embedder_name
        self.rows: dict[str, int] = {}
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        if self.npy.exists() and self.keys_path.exists():
            keys = self.keys_path.read_text().split()
            vectors = np.load(self.npy)
            if len(keys) == len(vectors):
                self.vectors, self.rows = vectors, {k: i for i, k in enumerate(keys)}

    def get(self, texts: list[str]) -> list[np.ndarray | None]:
        """Cached vector per text, or None."""
        return [self.vectors[self.rows[k]] if (k := _key(self.name, t)) in self.rows else None for t in texts]

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        """Add vectors and write the cache to disk."""
        new = [(_key(self.name, t), v) for t, v in zip(texts, vectors, strict=True)
               if _key(self.name, t) not in self.rows]
        if not new:
            return
        stacked = np.stack([v for _, v in new]).astype(np.float32)
        self.vectors = stacked if not self.rows else np.concatenate([self.vectors, stacked])
        for k, _ in new:
            self.rows[k] = len(self.rows)
        self.npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(self.npy, self.vectors)
        self.keys_path.write_text("\n".join(sorted(self.rows, key=self.rows.get)))


def _from_store(data_dir: Path, chunks: list[Chunk]) -> dict[str, np.ndarray]:
    """Vectors of `chunks` already in an ingested store (same ids and text ⇒ same embedding)."""
    if not (data_dir / "chroma.sqlite3").exists():
        return {}
    from rag.store import COLLECTION, _open_client

    try:
        collection = _open_client(data_dir).get_collection(COLLECTION)
    except Exception:  # no such collection: nothing to reuse
        return {}
    found: dict[str, np.ndarray] = {}
    for i in range(0, len(chunks), WRITE_BATCH):
        part = chunks[i:i + WRITE_BATCH]
        got = collection.get(ids=[c.chunk_id for c in part], include=["embeddings", "documents"])
        texts = {c.chunk_id: c.text for c in part}
        for cid, doc, vec in zip(got["ids"], got["documents"], got["embeddings"], strict=True):
            if texts.get(cid) == doc:
                found[cid] = np.asarray(vec, dtype=np.float32)
    return found


def base_vectors(chunks: list[Chunk], embedder: Any, donor: Path | None) -> tuple[np.ndarray, str]:
    """Unit vectors of the base chunks (cache → donor store → embedder) and where they came from."""
    cache = VectorCache(BENCH_CACHE, embedder.name)
    texts = [embedding_text(c) for c in chunks]
    got = cache.get(texts)
    missing = [i for i, v in enumerate(got) if v is None]
    origin = f"{len(chunks) - len(missing)} cached"
    if missing and donor is not None:
        donated = _from_store(donor, [chunks[i] for i in missing])
        if donated:
            idx = [i for i in missing if chunks[i].chunk_id in donated]
            cache.put([texts[i] for i in idx], np.stack([donated[chunks[i].chunk_id] for i in idx]))
            origin += f", {len(idx)} from the ingest store"
            missing = [i for i in missing if chunks[i].chunk_id not in donated]
    if missing:
        log(f"retrieval: embedding {len(missing)} base chunks once (cached in {cache.npy})")
        started = time.perf_counter()
        for i in range(0, len(missing), EMBED_BATCH):
            idx = missing[i:i + EMBED_BATCH]
            cache.put([texts[j] for j in idx], np.asarray(embedder.embed_documents([texts[j] for j in idx])))
        origin += f", {len(missing)} embedded now in {time.perf_counter() - started:.0f} s"
    vecs = np.stack([v for v in cache.get(texts)]).astype(np.float32)
    return vecs, origin


# --- the stores ------------------------------------------------------------------------------------

def build_store(folder: Path, chunks: list[Chunk], vectors: np.ndarray, size: int, embedder: Any,
                key: str) -> tuple[float, bool]:
    """A Chroma store of `size` chunks in `folder` (reused if built from the same inputs); (seconds, built)."""
    manifest = folder / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text()).get("key") == key:
        return 0.0, False
    from rag.store import Store, _forget_clients

    _forget_clients()
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    store = Store(folder, embedder)
    copies = math.ceil(size / len(chunks))
    left = size
    for copy in range(copies):
        n = min(left, len(chunks))
        part = [copy_chunk(c, copy) for c in chunks[:n]]
        vecs = perturb_vectors(vectors[:n], copy)
        for i in range(0, n, WRITE_BATCH):
            store.add(part[i:i + WRITE_BATCH], vecs[i:i + WRITE_BATCH].tolist())
        left -= n
    seconds = time.perf_counter() - started
    manifest.write_text(json.dumps({"key": key, "size": size, "sigma": SIGMA, "base_chunks": len(chunks),
                                    "build_s": round(seconds, 1)}))
    return seconds, True


def _store_key(chunks: list[Chunk], embedder_name: str, size: int) -> str:
    h = hashlib.sha1(f"{embedder_name}/{SIGMA}/{PERTURBATION_VERSION}/{size}".encode())
    for c in chunks:
        h.update(c.chunk_id.encode())
    return h.hexdigest()


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


@dataclass
class SizeResult:
    """Latencies at one store size (milliseconds)."""

    size: int
    build_s: float
    built: bool
    index_s: float
    disk_mb: float
    dense: list[float] = field(default_factory=list)
    bm25: list[float] = field(default_factory=list)
    fused: list[float] = field(default_factory=list)
    fused_e2e: list[float] = field(default_factory=list)
    count: list[float] = field(default_factory=list)  # Store.count(), which every search calls


def load_queries(path: Path, limit: int | None) -> list[tuple[str, str]]:
    """(question, language) of the FacQA valid set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["question"], r.get("lang", "id")) for r in rows[:limit]]


def _ms(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure_size(folder: Path, size: int, build: tuple[float, bool], settings: Settings, embedder: Any,
                 queries: list[tuple[str, str]], qvecs: list[list[float]]) -> SizeResult:
    """Time dense, BM25 and fused retrieval on the store in `folder`."""
    from rag.embeddings import E5Embeddings
    from rag.retrieve import Retriever
    from rag.store import Store

    store = Store(folder, embedder, create=False)
    retriever = Retriever(store, embedder, settings.retrieval)
    index_s, count = timed(retriever.chunk_count)  # builds the BM25 index from the store, as at run time
    res = SizeResult(size, build[0], build[1], index_s, _folder_mb(folder))
    n = min(settings.retrieval.candidates, count)
    for (q, lang), v in list(zip(queries, qvecs, strict=True))[:WARM_QUERIES]:
        store.dense_search(v, n)
        retriever.bm25_search(q, n)
        retriever.search(q, lang)
    for (q, lang), v in zip(queries, qvecs, strict=True):
        res.dense.append(_ms(lambda v=v: store.dense_search(v, n)))
        res.bm25.append(_ms(lambda q=q: retriever.bm25_search(q, n)))
        res.fused.append(_ms(lambda q=q, lang=lang: retriever.search(q, lang)))
        # The retriever asks the store for its size on every search (to notice a changed store).
        res.count.append(_ms(store.count))
    # A new embedder object (same shared model, empty query cache): each search embeds its question,
    # as a question never asked before does.
    retriever.embedder = E5Embeddings()
    for q, lang in queries:
        res.fused_e2e.append(_ms(lambda q=q, lang=lang: retriever.search(q, lang)))
    return res


def run(settings: Settings, sizes: list[int], query_limit: int | None, passage_limit: int | None,
        donor: Path | None, results: Results) -> None:
    """Build (or reuse) the stores and time retrieval on each; rows, a per-size table and plot series."""
    from rag.embeddings import get_embedder

    embedder = get_embedder(settings.models.embedder)
    chunks = base_chunks(settings, FACQA_DIR / "passages.jsonl", passage_limit)
    vectors, origin = base_vectors(chunks, embedder, donor)
    queries = load_queries(FACQA_DIR / "valid.jsonl", query_limit)
    embed_ms, qvecs = [], []
    for q, _ in queries:
        start = time.perf_counter()
        qvecs.append(embedder.embed_query(q))
        embed_ms.append((time.perf_counter() - start) * 1000)
    per_size: list[SizeResult] = []
    for size in sizes:
        folder = BENCH_CACHE / "stores" / f"facqa-{size}"
        build = build_store(folder, chunks, vectors, size, embedder, _store_key(chunks, embedder.name, size))
        log(f"retrieval: store of {size} chunks " + (f"built in {build[0]:.0f} s" if build[1] else "reused")
            + f" ({folder})")
        r = measure_size(folder, size, build, settings, embedder, queries, qvecs)
        per_size.append(r)
        log(f"retrieval @ {size}: dense p95 {p50_p95(r.dense)[1]:.1f} ms, BM25 p95 {p50_p95(r.bm25)[1]:.1f} ms, "
            f"fused p95 {p50_p95(r.fused)[1]:.1f} ms, fused e2e p95 {p50_p95(r.fused_e2e)[1]:.1f} ms")
    _report(results, per_size, embed_ms, chunks, origin, len(queries))


def _report(results: Results, per_size: list[SizeResult], embed_ms: list[float], chunks: list[Chunk],
            origin: str, n_queries: int) -> None:
    sec = "3 retrieval"
    e50, e95 = p50_p95(embed_ms)
    results.add(sec, "query embedding p50 / p95", f"{e50:.1f} / {e95:.1f} ms", note=f"{n_queries} FacQA questions")
    for r in per_size:
        label = f"{r.size // 1000}k" if r.size % 1000 == 0 else str(r.size)
        for name, values in (("dense (Chroma, vector given)", r.dense), ("BM25", r.bm25)):
            p50, p95 = p50_p95(values)
            results.add(sec, f"{name} p50 / p95 @ {label}", f"{p50:.1f} / {p95:.1f} ms")
        p50, p95 = p50_p95(r.fused)
        big = r.size >= 100_000
        results.add(sec, f"fused retriever p50 / p95 @ {label} (query vector cached)", f"{p50:.1f} / {p95:.1f} ms",
                    TARGETS["retrieval_p95_100k"] if big else None, p95,
                    note=f"Store.count() alone: p50 {p50_p95(r.count)[0]:.1f} ms")
        p50, p95 = p50_p95(r.fused_e2e)
        results.add(sec, f"fused end to end p50 / p95 @ {label} (query embedded)", f"{p50:.1f} / {p95:.1f} ms")
    lines = ["| chunks | store build | BM25 index build | on disk | dense p50/p95 | BM25 p50/p95 | fused p50/p95 | "
             "fused e2e p50/p95 | Store.count() p50/p95 |", "|---|---|---|---|---|---|---|---|---|"]
    for r in per_size:
        cols = [f"{p50_p95(v)[0]:.1f}/{p50_p95(v)[1]:.1f} ms"
                for v in (r.dense, r.bm25, r.fused, r.fused_e2e, r.count)]
        build = f"{r.build_s:.0f} s" if r.built else "cached"
        lines.append(f"| {r.size:,} | {build} | {fmt(r.index_s, 's', 1)} | {r.disk_mb:.0f} MB | {' | '.join(cols)} |")
    results.details.append("### Retrieval by store size\n\n" + "\n".join(lines) + "\n\nFused = dense + BM25 + "
                           "fusion + the `Store.count()` that `Retriever.search` makes on every call (timed on its "
                           "own in the last column).")
    results.notes.append(
        f"Retrieval stores: {len(chunks)} base chunks from the FacQA passages (chunked as ingest does; vectors: "
        f"{origin}), then copies c = 1, 2, … with vector normalize(v + N(0, {SIGMA}²)) seeded by c and text with "
        "one word dropped, two neighbours swapped and \" (salinan c)\" appended; written with the project's Store, "
        f"BM25 index built by its Retriever. Queries: {n_queries} FacQA valid questions; "
        f"{WARM_QUERIES} untimed warm-up queries per store.")
    results.series["retrieval"] = [
        {"size": r.size, **{f"{k}_{q}": p50_p95(getattr(r, k))[i] for k in ("dense", "bm25", "fused", "fused_e2e")
                            for i, q in enumerate(("p50", "p95"))}}
        for r in per_size
    ]
