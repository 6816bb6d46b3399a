"""The Chroma store in the data dir: chunks, their embeddings and document metadata."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.chunking import Chunk
from rag.embeddings import E5Embeddings
from rag.errors import KabarError

COLLECTION = "kabar_chunks"
_GET_PAGE = 5000


@dataclass
class StoredChunk:
    """A chunk read back from the store."""

    chunk_id: str
    text: str
    metadata: dict


def _open_client(path: Path):
    # Telemetry off before chromadb is imported anywhere: no network from the store.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


class Store:
    """Chunks in a Chroma collection that records which embedding model filled it."""

    def __init__(self, data_dir: Path, embedder: E5Embeddings, create: bool = True):
        self.data_dir = data_dir
        self.embedder = embedder
        if not create and not (data_dir / "chroma.sqlite3").exists():
            self._client = None
            self._collection = None
            self.vectorstore = None
            return
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KabarError(f"cannot create the data dir {data_dir}: {exc}") from None
        if not os.access(data_dir, os.W_OK):
            raise KabarError(f"the data dir {data_dir} is not writable")
        try:
            from langchain_chroma import Chroma

            self._client = _open_client(data_dir)
            self.vectorstore = Chroma(
                client=self._client,
                collection_name=COLLECTION,
                embedding_function=embedder,
                collection_metadata={"embedder": embedder.name, "dim": embedder.dim},
                create_collection_if_not_exists=create,
            )
            self._collection = self.vectorstore._collection
        except KabarError:
            raise
        except Exception as exc:
            _forget_clients()
            raise KabarError(
                f"cannot open the store in {data_dir} ({type(exc).__name__}: {str(exc)[:200]}); "
                "if it is damaged, run `kabar ingest --rebuild` (the old folder is kept aside)"
            ) from None
        meta = self._collection.metadata or {}
        if meta.get("embedder") != embedder.name or int(meta.get("dim", -1)) != embedder.dim:
            raise KabarError(
                f"the store in {data_dir} was built with the embedding model {meta.get('embedder')!r} "
                f"(dim {meta.get('dim')}), not {embedder.name!r} (dim {embedder.dim}); "
                "run `kabar ingest --rebuild` to re-embed it"
            )

    @property
    def exists(self) -> bool:
        return self._collection is not None

    def count(self) -> int:
        """Number of chunks stored."""
        return self._collection.count() if self._collection is not None else 0

    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]:
        """Every stored chunk, paged so a large store is not read in one call."""
        if self._collection is None:
            return
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            got = self._collection.get(include=include, limit=_GET_PAGE, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            docs = got.get("documents") or [""] * len(ids)
            for cid, text, meta in zip(ids, docs, got["metadatas"], strict=True):
                yield StoredChunk(cid, text or "", dict(meta or {}))
            offset += len(ids)

    def documents(self) -> dict[str, dict]:
        """Per document id: its metadata and chunk ids."""
        docs: dict[str, dict] = {}
        for c in self.iter_chunks(include_text=False):
            d = docs.setdefault(c.metadata.get("source", "?"), {**c.metadata, "chunk_ids": set()})
            d["chunk_ids"].add(c.chunk_id)
        return docs

    def get(self, ids: list[str]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        if not ids or self._collection is None:
            return []
        got = self._collection.get(ids=ids, include=["metadatas", "documents"])
        by_id = {
            cid: StoredChunk(cid, text or "", dict(meta or {}))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def add(self, chunks: list[Chunk], embeddings: list[list[float]]) -> None:
        """Write chunks with their embeddings (computed by the caller from the chunk's context)."""
        if chunks:
            self._collection.upsert(
                ids=[c.chunk_id for c in chunks],
                documents=[c.text for c in chunks],
                metadatas=[c.metadata for c in chunks],
                embeddings=embeddings,
            )

    def delete(self, ids: list[str]) -> None:
        """Remove chunks by id."""
        for i in range(0, len(ids), _GET_PAGE):
            self._collection.delete(ids=ids[i : i + _GET_PAGE])

    def dense_search(self, query_vec: list[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `k` nearest chunks."""
        if self._collection is None or k <= 0:
            return []
        res = self._collection.query(query_embeddings=[query_vec], n_results=k, include=["distances"])
        # Embeddings are unit-length and the space is squared L2: cosine = 1 - d/2.
        return [(cid, 1.0 - float(d) / 2.0) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]


def _forget_clients() -> None:
    """Drop Chroma's per-path client cache, so a failed or moved store can be reopened in-process."""
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # best effort: only affects reopening in the same process
        pass


@contextlib.contextmanager
def write_lock(data_dir: Path) -> Iterator[None]:
    """Only one writer per data dir; a second one gets a clear error instead of a locked database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / ".kabar.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise KabarError(f"another kabar process is writing to {data_dir}; try again when it is done") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def move_aside(data_dir: Path) -> Path | None:
    """Rename a store folder out of the way (for --rebuild) instead of deleting anything."""
    if not data_dir.exists() or not any(data_dir.iterdir()):
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = data_dir.with_name(f"{data_dir.name}.old-{stamp}")
    _forget_clients()
    try:
        data_dir.rename(target)
    except OSError as exc:
        raise KabarError(f"cannot move {data_dir} aside for the rebuild: {exc}") from None
    return target
