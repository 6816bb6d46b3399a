"""`python -m rag.llm_serve ARGS`: `python -m llama_cpp.server ARGS` with `llm.weight_repacking` applied.

llama_cpp.server has no flag for llama.cpp's weight repacking, and its default (repacking on) crashes
the server on a CPU with Intel AMX (see config.yaml). This runs the same server, with the same flags,
loading its model the way the embedded model is loaded. The setting comes from config.yaml or
KABAR_LLM__WEIGHT_REPACKING.
"""

from __future__ import annotations

import sys

from rag.config import load_settings
from rag.errors import KabarError
from rag.llm import model_defaults, repacking_enabled


def main() -> None:
    """Start llama_cpp.server (its own command-line flags) with the configured repacking."""
    try:
        setting = load_settings().llm.weight_repacking
    except KabarError as exc:
        sys.exit(f"kabar: error: {exc}")
    from llama_cpp.server.__main__ import main as server_main

    # The server loads its one model at start and serves until stopped: the defaults stay set meanwhile.
    with model_defaults(repacking_enabled(setting)):
        server_main()


if __name__ == "__main__":
    main()
