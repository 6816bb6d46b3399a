"""What `kabar info` reports: data dir, store contents and the resolved model files."""

from __future__ import annotations

from typing import Any

from rag.config import Settings
from rag.embeddings import get_embedder
from rag.errors import KabarError
from rag.model_files import resolve_llm
from rag.store import Store


def gather(settings: Settings) -> dict[str, Any]:
    """Facts about this installation; problems (e.g. a missing model) are reported, not raised."""
    embedder = get_embedder(settings.models.embedder, settings.embedding)
    store = Store(settings.data_path, embedder, create=False)
    docs = store.documents()
    dates = sorted(d.get("date") for d in docs.values() if d.get("date"))
    try:
        llm = str(resolve_llm(str(settings.resolve(settings.models.llm_path)) if settings.models.llm_path else "",
                              settings.cache_path))
    except KabarError as exc:
        llm = f"unavailable: {exc}"
    return {
        "data_dir": str(settings.data_path),
        "documents": len(docs),
        "chunks": store.count(),
        "outlets": sorted({d.get("outlet") for d in docs.values() if d.get("outlet")}),
        "date_range": f"{dates[0]} .. {dates[-1]}" if dates else "",
        "llm": llm,
        "embedder": f"{embedder.name} (dim {embedder.dim})",
        "corpus_paths": [str(p) for p in settings.corpus_paths],
    }
