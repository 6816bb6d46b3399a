"""files → cleaned documents → chunks → embeddings → store, incrementally."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.chunking import Chunk, chunk_document, make_splitter
from rag.config import Settings
from rag.documents import ReadReport, iter_documents
from rag.embeddings import get_embedder
from rag.store import Store, lock_name, move_aside, rename_collection_aside, write_lock


@dataclass
class IngestSummary:
    """What an ingest did, for the closing line."""

    documents: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    removed_documents: int = 0
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    moved_aside: str = ""  # where --rebuild kept the old store (a folder, or a collection on the server)

    def line(self) -> str:
        s = (
            f"{self.documents} documents: {self.added} chunks added, {self.unchanged} unchanged, "
            f"{self.removed} removed"
        )
        if self.removed_documents:
            s += f" ({self.removed_documents} documents dropped)"
        if self.skipped:
            s += f"; {len(self.skipped)} skipped"
        return s + f" in {self.seconds:.1f} s"


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its article's title gives the chunk the context it lacks."""
    title = chunk.metadata.get("title", "")
    return f"{title}\n{chunk.text}" if title else chunk.text


def _settings_fingerprint(settings: Settings) -> str:
    c = settings.chunking
    return f"{c.chunk_size}/{c.chunk_overlap}/{c.min_chunk_chars}"


def ingest(settings: Settings, paths: list[Path] | None = None, prune: bool = False, rebuild: bool = False,
           progress: bool = True) -> IngestSummary:
    """Bring the store in line with the corpus files. Safe to re-run: unchanged files cost nothing."""
    started = time.perf_counter()
    summary = IngestSummary()
    data_dir = settings.data_path
    paths = paths or settings.corpus_paths
    remote = settings.store.mode == "http"
    where = f"the collection {settings.store.collection} on {settings.store.url}" if remote else ""
    with write_lock(data_dir, lock_name(settings.store), where):
        if rebuild and remote:
            # Like the folder below, the old collection is renamed and kept, never deleted.
            kept = rename_collection_aside(settings.store)
            summary.moved_aside = f"collection {kept} on {settings.store.url}" if kept else ""
        elif rebuild:
            moved = move_aside(data_dir)
            summary.moved_aside = str(moved or "")
            data_dir.mkdir(parents=True, exist_ok=True)
        embedder = get_embedder(settings.models.embedder, settings.embedding)
        store = Store(data_dir, embedder, settings=settings.store)
        stored = store.documents()
        splitter = make_splitter(settings.chunking.chunk_size, settings.chunking.chunk_overlap)
        report = ReadReport()
        salt = _settings_fingerprint(settings)

        pending: list[tuple[list[Chunk], set[str]]] = []  # (chunks to write, stale ids to drop after)
        seen_docs: set[str] = set()
        origins: set[str] = set()
        for doc in iter_documents(paths, settings.corpus.extensions, int(settings.corpus.max_file_mb * 2**20),
                                  report):
            origins.add(doc.origin)
            if doc.doc_id in seen_docs:
                report.skipped.append((doc.origin, f"duplicate document id {doc.doc_id!r}"))
                continue
            seen_docs.add(doc.doc_id)
            summary.documents += 1
            fp = hashlib.sha1(f"{doc.fingerprint}/{salt}".encode()).hexdigest()
            old = stored.get(doc.doc_id)
            if old and old.get("fingerprint") == fp:
                summary.unchanged += len(old["chunk_ids"])
                continue
            chunks = chunk_document(doc, splitter, settings.chunking.min_chunk_chars, fp)
            old_ids = old["chunk_ids"] if old else set()
            pending.append((chunks, old_ids))

        to_embed = sum(len(c) for c, _ in pending)
        bar = tqdm(total=to_embed, unit="chunk", desc="Embedding", disable=not progress or not to_embed)
        step = settings.embedding.ingest_batch
        # Chunks of several documents share a step (FacQA-like corpora have one or two chunks a
        # document): the embedder then has enough texts to keep every core busy.
        group: list[tuple[list[Chunk], set[str]]] = []
        in_group = 0
        for n, item in enumerate(pending):
            group.append(item)
            in_group += len(item[0])
            if in_group < step and n + 1 < len(pending):
                continue
            chunks = [c for cs, _ in group for c in cs]
            for i in range(0, len(chunks), step):
                batch = chunks[i : i + step]
                store.add(batch, embedder.embed_documents([embedding_text(c) for c in batch]))
                bar.update(len(batch))
            # New chunks are written before old ones go: an interrupted run loses nothing.
            for doc_chunks, old_ids in group:
                new_ids = {c.chunk_id for c in doc_chunks}
                store.delete(sorted(old_ids - new_ids))
                summary.added += len(new_ids - old_ids)
                summary.unchanged += len(new_ids & old_ids)
                summary.removed += len(old_ids - new_ids)
            group, in_group = [], 0
        bar.close()

        # --prune: documents whose file is gone, or whose record left a corpus file read cleanly now.
        troubled = {p.split(":")[0] for p, _ in report.skipped}
        gone = [
            doc_id for doc_id, meta in stored.items()
            if prune and doc_id not in seen_docs
            and (not Path(meta.get("origin", "")).exists()
                 or (meta.get("origin") in origins and meta.get("origin") not in troubled))
        ] if prune else []
        for doc_id in gone:
            ids = sorted(stored[doc_id]["chunk_ids"])
            store.delete(ids)
            summary.removed += len(ids)
            summary.removed_documents += 1

    summary.skipped = report.skipped
    summary.seconds = time.perf_counter() - started
    return summary
