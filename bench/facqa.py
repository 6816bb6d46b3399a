"""Reproduce the FacQA (IndoNLU) open-domain numbers with one command.

Ingests the FacQA passages into a data dir of their own (incremental: a second run reuses the store),
then runs `kabar eval --retrieval-only` on the 311 valid questions and, with `--answers N`, the full
pipeline on the first N valid questions (about 4 s a question on 2 cores).

Usage: python bench/facqa.py [--facqa-dir DIR] [--data-dir DIR] [--answers N] [--out-dir DIR] [--gold FILE]
(`--gold eval/facqa_train_en.jsonl`: the 60 train questions translated into English, instead of valid).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_FACQA = REPO.parent / "shared" / "datasets" / "facqa"


def run_kabar(args: list[str]) -> int:
    """Run the `kabar` CLI in this process; its exit code."""
    from bot.cli import cli

    try:
        cli.main(args=args, obj={}, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def ingest_passages(facqa_dir: Path, data_dir: Path) -> None:
    """Bring the store in `data_dir` up to date with `passages.jsonl` (unchanged passages are skipped)."""
    from rag.config import load_settings
    from rag.ingest import ingest

    settings = load_settings(data_dir=str(data_dir))
    summary = ingest(settings, [(facqa_dir / "passages.jsonl").resolve()], progress=True)
    print(summary.line())
    if summary.skipped:
        raise SystemExit(f"passages skipped: {summary.skipped[:3]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facqa-dir", type=Path, default=DEFAULT_FACQA,
                        help=f"folder with passages.jsonl and valid.jsonl (default {DEFAULT_FACQA})")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kabar-facqa"),
                        help="store for the FacQA passages (default /tmp/kabar-facqa)")
    parser.add_argument("--answers", type=int, default=0, metavar="N",
                        help="also answer the first N valid questions with the LLM (default 0)")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="predictions and reports go here (default DATA_DIR/runs)")
    parser.add_argument("--gold", type=Path, default=None,
                        help="questions to ask instead of FACQA_DIR/valid.jsonl (e.g. eval/facqa_train_en.jsonl)")
    args = parser.parse_args(argv)

    valid = args.gold or args.facqa_dir / "valid.jsonl"
    if not valid.is_file() or not (args.facqa_dir / "passages.jsonl").is_file():
        parser.error(f"no {valid} or no {args.facqa_dir / 'passages.jsonl'}")
    out_dir = args.out_dir or args.data_dir / "runs"
    out_dir.mkdir(parents=True, exist_ok=True)

    ingest_passages(args.facqa_dir, args.data_dir)
    base = ["--data-dir", str(args.data_dir), "eval", "--gold", str(valid)]
    print(f"\n== {valid.name}, retrieval only ({out_dir / 'retrieval.jsonl'})")
    code = run_kabar([*base, "--retrieval-only", "--out", str(out_dir / "retrieval.jsonl"),
                      "--report", str(out_dir / "retrieval.md")])
    if code or args.answers <= 0:
        return code
    print(f"\n== {valid.name}, first {args.answers} questions answered ({out_dir / 'answers.jsonl'})")
    return run_kabar([*base, "--limit", str(args.answers), "--out", str(out_dir / "answers.jsonl"),
                      "--report", str(out_dir / "answers.md")])


if __name__ == "__main__":
    sys.exit(main())
