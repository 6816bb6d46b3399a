"""What `kabar info` reports: data dir, store contents and the resolved model files."""

from __future__ import annotations

from typing import Any

from rag.config import Settings
from rag.embeddings import get_embedder
from rag.errors import KabarError
from rag.model_files import settings_llm
from rag.store import open_store


def _llm(settings: Settings) -> str:
    if settings.llm.mode == "server":
        return f"server {settings.llm.server_url} (model {settings.llm.server_model})"
    try:
        return str(settings_llm(settings))
    except KabarError as exc:
        return f"unavailable: {exc}"


def gather(settings: Settings) -> dict[str, Any]:
    """Facts about this installation; problems (e.g. a missing model) are reported, not raised.

    An unreachable Chroma server is the exception: there is nothing to report about the store then.
    """
    embedder = get_embedder(settings.models.embedder, settings.embedding)
    store = open_store(settings)
    docs = store.documents()
    dates = sorted(d.get("date") for d in docs.values() if d.get("date"))
    backend = (f"chroma server {store.location}" if store.remote
               else f"embedded chroma in {settings.data_path}")
    return {
        "store": backend,
        "data_dir": str(settings.data_path),
        "documents": len(docs),
        "chunks": store.count(),
        "outlets": sorted({d.get("outlet") for d in docs.values() if d.get("outlet")}),
        "date_range": f"{dates[0]} .. {dates[-1]}" if dates else "",
        "llm": _llm(settings),
        "embedder": f"{embedder.name} (dim {embedder.dim})",
        "corpus_paths": [str(p) for p in settings.corpus_paths],
    }
