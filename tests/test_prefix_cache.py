"""The evaluated static prompt kept on disk: a later process loads it and answers exactly the same."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def test_a_kept_prefix_is_loaded_and_gives_the_same_answers(pipeline, tmp_path: Path):
    model = pipeline.model
    prefix = pipeline.prompts.prefix
    question = "Kapan KTT SCO di Tianjin berlangsung?"

    model.warm_up(prefix, tmp_path)  # nothing kept yet: evaluated, then kept
    kept = list(tmp_path.glob("prefix-*.npz"))
    assert len(kept) == 1
    computed = pipeline.ask(question)

    # An old file in use counts as new when loaded, so pruning after another process's save keeps it.
    os.utime(kept[0], (1_000_000_000, 1_000_000_000))
    loads = []
    original = model._load_prefix
    model._load_prefix = lambda path: loads.append(original(path)) or loads[-1]
    try:
        model.llama.reset()  # as a new process: nothing evaluated
        model.warm_up(prefix, tmp_path)
    finally:
        del model._load_prefix
    assert loads == [True]
    assert kept[0].stat().st_mtime > 1_000_000_000
    assert model.llama.n_tokens == len(model._warm) > 0
    loaded = pipeline.ask(question)
    assert (loaded.raw, loaded.text) == (computed.raw, computed.text)
    assert not computed.abstained


def test_a_damaged_kept_prefix_is_ignored(pipeline, tmp_path: Path):
    model = pipeline.model
    path = tmp_path / "prefix-x.npz"
    assert model._load_prefix(path) is False  # missing
    path.write_bytes(b"\x00garbage" * 100)
    assert model._load_prefix(path) is False  # not an npz file
    # A well-formed file whose state does not match its checksum is not handed to llama.cpp.
    np.savez(path, ids=np.array([1, 2, 3], dtype=np.int32), state=np.zeros(10, dtype=np.uint8),
             digest=np.zeros(32, dtype=np.uint8))
    assert model._load_prefix(path) is False
    assert pipeline.ask("Kapan KTT SCO di Tianjin berlangsung?").text  # the model still answers
