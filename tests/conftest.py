"""Shared fixtures: a real store of the seed articles and the real packaged model, built once per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from rag.config import PROJECT_ROOT, Settings, load_settings  # noqa: E402

SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose data dir holds the ingested seed articles (real embedder, real Chroma on disk)."""
    from rag.ingest import ingest

    data = tmp_path_factory.mktemp("seed-store")
    settings = load_settings(data_dir=str(data))
    ingest(settings, progress=False)
    return settings


@pytest.fixture(scope="session")
def pipeline(seed_settings: Settings):
    """The real pipeline with the real packaged LLM, loaded once for the whole test run."""
    from rag.answer import Pipeline

    return Pipeline.from_settings(seed_settings)


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with an empty data dir of the test's own."""
    return load_settings(data_dir=str(tmp_path / "data"))
