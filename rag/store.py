"""The Chroma store: chunks, their embeddings and document metadata.

Embedded mode (default) keeps Chroma's files in the data dir; http mode talks to a Chroma server
(`chroma run`) that several kabar processes share. Only the client differs: the collection, its
metadata and every read and write are the same.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.chunking import Chunk
from rag.config import Settings, StoreSettings
from rag.embeddings import E5Embeddings
from rag.errors import KabarError, ServiceUnavailable

COLLECTION = StoreSettings().collection
_GET_PAGE = 5000


@dataclass
class StoredChunk:
    """A chunk read back from the store."""

    chunk_id: str
    text: str
    metadata: dict


def _chroma_settings():
    # Telemetry off before chromadb is imported anywhere: no network from the store.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def _open_client(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def unreachable(server: StoreSettings, detail: str = "") -> ServiceUnavailable:
    """The one-line error for a Chroma server that does not answer."""
    tail = f" ({detail})" if detail else ""
    return ServiceUnavailable(f"cannot reach the Chroma server at {server.url} — is `chroma run` up?{tail}")


def _open_http_client(server: StoreSettings):
    import chromadb

    settings = _chroma_settings()
    try:
        client = chromadb.HttpClient(host=server.host, port=server.port, settings=settings)
    except ValueError:  # chromadb's "Could not connect to a Chroma server" (its heartbeat failed)
        raise unreachable(server) from None
    except Exception as exc:
        raise unreachable(server, f"{type(exc).__name__}: {str(exc)[:120]}") from None
    # chromadb's HTTP session never times out: a hung server would hang every question with it.
    # Best effort, on its private session object (its constructor takes no timeout).
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        import httpx

        session.timeout = httpx.Timeout(server.timeout_s)
    return client


class Store:
    """Chunks in a Chroma collection that records which embedding model filled it.

    `settings` (the `store` section) chooses embedded files in `data_dir` or a Chroma server; with
    `create=False` a store that does not exist yet reads as empty instead of being created.
    """

    def __init__(self, data_dir: Path, embedder: E5Embeddings, create: bool = True,
                 settings: StoreSettings | None = None):
        self.data_dir = data_dir
        self.embedder = embedder
        self.settings = settings or StoreSettings()
        self.remote = self.settings.mode == "http"
        self._client = None
        self._collection = None
        self.vectorstore = None
        if self.remote:
            with self._remote_errors():
                self._client = _open_http_client(self.settings)
                if not create and not self._remote_exists():
                    return
                self._open_collection(create)
        else:
            if not create and not (data_dir / "chroma.sqlite3").exists():
                return
            try:
                data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise KabarError(f"cannot create the data dir {data_dir}: {exc}") from None
            if not os.access(data_dir, os.W_OK):
                raise KabarError(f"the data dir {data_dir} is not writable")
            self._open_collection(create)
        meta = self._collection.metadata or {}
        if meta.get("embedder") != embedder.name or int(meta.get("dim", -1)) != embedder.dim:
            raise KabarError(
                f"the store {self.location} was built with the embedding model {meta.get('embedder')!r} "
                f"(dim {meta.get('dim')}), not {embedder.name!r} (dim {embedder.dim}); "
                "run `kabar ingest --rebuild` to re-embed it"
            )

    @property
    def location(self) -> str:
        """Where the chunks live, for messages: the data dir, or the server and collection."""
        if self.remote:
            return f"{self.settings.url} (collection {self.settings.collection})"
        return str(self.data_dir)

    def _open_collection(self, create: bool) -> None:
        """The collection through LangChain's Chroma wrapper, with our embedder (never Chroma's default)."""
        try:
            from langchain_chroma import Chroma

            if self._client is None:
                self._client = _open_client(self.data_dir)
            self.vectorstore = Chroma(
                client=self._client,
                collection_name=self.settings.collection,
                embedding_function=self.embedder,
                collection_metadata={"embedder": self.embedder.name, "dim": self.embedder.dim},
                create_collection_if_not_exists=create,
            )
            self._collection = self.vectorstore._collection
        except KabarError:
            raise
        except Exception as exc:
            if self.remote and _is_transport_error(exc):
                raise
            if not self.remote:  # (stops every embedded client of this process: only for a broken one)
                _forget_clients()
            hint = ("if it is damaged, run `kabar ingest --rebuild` (the old one is kept aside)" if not self.remote
                    else "check the server's log")
            raise KabarError(
                f"cannot open the store {self.location} ({type(exc).__name__}: {str(exc)[:200]}); {hint}"
            ) from None

    def _remote_exists(self) -> bool:
        from chromadb.errors import NotFoundError

        try:
            self._client.get_collection(self.settings.collection)
        except (NotFoundError, ValueError):  # ValueError: older clients' "does not exist"
            return False
        return True

    @contextlib.contextmanager
    def _remote_errors(self) -> Iterator[None]:
        """A Chroma server that went away becomes one clear line, not an httpx traceback."""
        try:
            yield
        except Exception as exc:
            if self.remote and _is_transport_error(exc):
                raise unreachable(self.settings, type(exc).__name__) from None
            raise

    @property
    def exists(self) -> bool:
        return self._collection is not None

    def count(self) -> int:
        """Number of chunks stored."""
        if self._collection is None:
            return 0
        with self._remote_errors():
            return self._collection.count()

    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]:
        """Every stored chunk, paged so a large store is not read in one call."""
        if self._collection is None:
            return
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            with self._remote_errors():
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
        with self._remote_errors():
            got = self._collection.get(ids=ids, include=["metadatas", "documents"])
        by_id = {
            cid: StoredChunk(cid, text or "", dict(meta or {}))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def add(self, chunks: list[Chunk], embeddings: list[list[float]]) -> None:
        """Write chunks with their embeddings (computed by the caller from the chunk's context)."""
        if chunks:
            with self._remote_errors():
                self._collection.upsert(
                    ids=[c.chunk_id for c in chunks],
                    documents=[c.text for c in chunks],
                    metadatas=[c.metadata for c in chunks],
                    embeddings=embeddings,
                )

    def delete(self, ids: list[str]) -> None:
        """Remove chunks by id."""
        for i in range(0, len(ids), _GET_PAGE):
            with self._remote_errors():
                self._collection.delete(ids=ids[i : i + _GET_PAGE])

    def dense_search(self, query_vec: list[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `k` nearest chunks."""
        if self._collection is None or k <= 0:
            return []
        with self._remote_errors():
            res = self._collection.query(query_embeddings=[query_vec], n_results=k, include=["distances"])
        # Embeddings are unit-length and the space is squared L2: cosine = 1 - d/2.
        return [(cid, 1.0 - float(d) / 2.0) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]


def open_store(settings: Settings, create: bool = False) -> Store:
    """The store the settings name (embedded in the data dir, or on the Chroma server)."""
    from rag.embeddings import get_embedder

    embedder = get_embedder(settings.models.embedder, settings.embedding)
    return Store(settings.data_path, embedder, create=create, settings=settings.store)


def _is_transport_error(exc: BaseException) -> bool:
    """A connection refused, reset or timed out on the way to a Chroma server (not an error it answered)."""
    import httpx

    return isinstance(exc, httpx.TransportError)


def _forget_clients() -> None:
    """Drop Chroma's per-path client cache, so a failed or moved store can be reopened in-process."""
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # best effort: only affects reopening in the same process
        pass


def lock_name(settings: StoreSettings) -> str:
    """The lock file of a store's writers: one per data dir, or one per server collection (http mode)."""
    if settings.mode == "http":
        return f".kabar-{settings.host}-{settings.port}-{settings.collection}.lock"
    return ".kabar.lock"


@contextlib.contextmanager
def write_lock(data_dir: Path, name: str = ".kabar.lock", what: str = "") -> Iterator[None]:
    """Only one writer per store; a second one gets a clear error instead of a locked database.

    The lock is a file in `data_dir`, so in http mode it keeps apart the writers of one machine
    (run `kabar ingest` from one machine only).
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fh = (data_dir / name).open("w")
    except OSError as exc:
        raise KabarError(f"cannot create the lock file in the data dir {data_dir}: {exc}") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise KabarError(
                f"another kabar process is writing to {what or data_dir}; try again when it is done"
            ) from None
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


def rename_collection_aside(settings: StoreSettings) -> str | None:
    """--rebuild on a Chroma server: rename the collection out of the way instead of deleting it.

    Returns the name it is kept under (None when there was no collection). Readers that already
    hold the collection keep answering from the old one until they are restarted.
    """
    from chromadb.errors import NotFoundError

    client = _open_http_client(settings)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = f"{settings.collection}.old-{stamp}"
    try:
        try:
            collection = client.get_collection(settings.collection)
        except (NotFoundError, ValueError):
            return None
        collection.modify(name=target)
    except Exception as exc:
        if _is_transport_error(exc):
            raise unreachable(settings, type(exc).__name__) from None
        raise KabarError(
            f"cannot rename the collection {settings.collection} aside on {settings.url} for the rebuild: "
            f"{type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    return target
