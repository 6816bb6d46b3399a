"""Section 4: ingest throughput (the project's `ingest` into a fresh data dir) and embedding throughput alone.

Both go through the project's API (rag.ingest.ingest, the embedder's `embed_documents` in ingest's batch
size), so a faster embedder in rag/embeddings.py shows up here without changing this file.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from bench.common import FACQA_DIR, ROOT, TARGETS, Results, log
from rag.chunking import Chunk
from rag.config import Settings, load_settings
from rag.ingest import embedding_text
from rag.store import StoredChunk

# Chunks per embedding call, as `kabar ingest` does it (embedding.ingest_batch).
EMBED_BATCH = load_settings().embedding.ingest_batch


def passages_file(scratch: Path, limit: int | None) -> Path:
    """The FacQA passages file, or a copy of its first `limit` lines in `scratch`."""
    source = FACQA_DIR / "passages.jsonl"
    if limit is None:
        return source
    target = scratch / "passages.jsonl"
    with source.open(encoding="utf-8") as src:
        target.write_text("".join(itertools.islice(src, limit)), encoding="utf-8")
    return target


def run(scratch: Path, passage_limit: int | None, embed_chunks: int, results: Results) -> Path:
    """Ingest the seeds and the FacQA passages into `scratch/ingest`; time the embedder alone too.

    Returns the data dir (the retrieval section reuses its vectors).
    """
    data_dir = scratch / "ingest"
    settings: Settings = load_settings(data_dir=str(data_dir))
    from rag.ingest import ingest

    paths = [ROOT / "seeds", passages_file(scratch, passage_limit)]
    log(f"ingest: seeds + {passage_limit or 'all'} FacQA passages into {data_dir}")
    summary = ingest(settings, paths, progress=False)
    rate = summary.added / summary.seconds if summary.seconds else float("nan")
    results.add("4 ingest", "ingest throughput (read, clean, chunk, embed, write)", f"{rate:.1f} chunks/s",
                note=f"{summary.added} chunks of {summary.documents} documents in {summary.seconds:.0f} s")

    from rag.embeddings import get_embedder
    from rag.store import Store

    embedder = get_embedder(settings.models.embedder)
    texts = [embedding_text_of(c) for c in itertools.islice(Store(data_dir, embedder).iter_chunks(), embed_chunks)]
    embedder.embed_documents(texts[:1])  # first call: lazy set-up, not throughput
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_documents(texts[i:i + EMBED_BATCH])
    seconds = time.perf_counter() - started
    embed_rate = len(texts) / seconds if seconds else float("nan")
    results.add("4 ingest", "embedding throughput (`embed_documents`, real chunks)", f"{embed_rate:.1f} chunks/s",
                TARGETS["embed_rate"], embed_rate,
                note=f"{len(texts)} chunks in batches of {EMBED_BATCH}, {seconds:.1f} s")
    log(f"ingest: {rate:.1f} chunks/s; embedding alone {embed_rate:.1f} chunks/s")
    return data_dir


def embedding_text_of(stored: StoredChunk) -> str:
    """What ingest embedded for a stored chunk (rag.ingest.embedding_text of the chunk it came from)."""
    meta = stored.metadata
    return embedding_text(Chunk(stored.chunk_id, meta.get("source", ""), stored.text, int(meta.get("position", 0)),
                                meta))
