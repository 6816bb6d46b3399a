"""The `kabar` command: ingest, ask, chat, eval, info, telegram."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import click

from rag.errors import KabarError

warnings.filterwarnings("ignore", category=DeprecationWarning)
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class _Group(click.Group):
    """Turns every KabarError (and Ctrl-C) into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KabarError as exc:
            click.echo(f"kabar: error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("\nkabar: interrupted", err=True)
            sys.exit(130)


def _settings(ctx: click.Context):
    from rag.config import load_settings

    obj = ctx.find_root().obj
    if "settings" not in obj:
        obj["settings"] = load_settings(obj["config"], data_dir=obj["data_dir"])
    return obj["settings"]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False), envvar="KABAR_CONFIG",
              help="Settings file (default: the project's config.yaml).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where the store lives (also KABAR_DATA_DIR).")
@click.version_option(package_name="kabar")
@click.pass_context
def cli(ctx: click.Context, config: str | None, data_dir: str | None) -> None:
    """Kabar: ask questions about your news articles, answered offline with citations."""
    ctx.ensure_object(dict)
    ctx.obj.update(config=config, data_dir=data_dir)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Drop documents whose files are gone.")
@click.option("--rebuild", is_flag=True,
              help="Start a new store (the old folder, or the old collection on a Chroma server, is kept "
                   "under a new name, not deleted).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, rebuild: bool, quiet: bool) -> None:
    """Add or update articles (default: the corpus folders in the config)."""
    from rag.ingest import ingest as run_ingest

    settings = _settings(ctx)
    summary = run_ingest(settings, [p.resolve() for p in paths] or None, prune=prune, rebuild=rebuild,
                         progress=not quiet)
    if summary.moved_aside:
        click.echo(f"old store kept at {summary.moved_aside}")
    elif rebuild and _settings(ctx).store.mode == "http":
        click.echo("there was no collection to keep aside: a new one was created")
    for path, reason in summary.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(summary.line())
    if summary.skipped:
        sys.exit(1)


def _pipeline(ctx: click.Context, ensure_corpus: bool = False):
    from rag.answer import Pipeline

    settings = _settings(ctx)
    if ensure_corpus:
        _ingest_if_empty(settings)
    return Pipeline.from_settings(settings)


def _ingest_if_empty(settings) -> None:
    from rag.ingest import ingest as run_ingest
    from rag.store import open_store

    if settings.store.mode == "http":
        # A shared Chroma server is filled by an explicit `kabar ingest`: workers starting together
        # must not all race to fill it (an empty one gets "the store … is empty" from the pipeline).
        return
    if open_store(settings).count() == 0:
        click.echo(f"The store in {settings.data_path} is empty: reading the default corpus first.", err=True)
        summary = run_ingest(settings, progress=True)
        click.echo(summary.line(), err=True)


@cli.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one predictions-format JSON object.")
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...], as_json: bool) -> None:
    """Answer one question, with its sources."""
    from bot.render import AnswerPrinter
    from rag.answer import clean_question

    text = clean_question(" ".join(question), _settings(ctx).answer.max_question_chars)
    pipeline = _pipeline(ctx, ensure_corpus=True)
    if as_json:
        answer = pipeline.ask(text)
        click.echo(json.dumps(answer.prediction(), ensure_ascii=False))
        return
    printer = AnswerPrinter()
    answer = pipeline.ask(text, on_token=printer.stream)
    printer.finish(answer)


@cli.command()
@click.pass_context
def chat(ctx: click.Context) -> None:
    """Chat about the articles (follow-up questions, /sources, /reset, /help, /quit)."""
    from bot.chat import run_chat

    run_chat(_pipeline(ctx, ensure_corpus=True))


def _writable(path: Path | None) -> None:
    """Make the folder of an output file, or stop with a clear error when it cannot be written."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KabarError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise KabarError(f"cannot write {path}: permission denied")


@cli.command(name="eval")
@click.option("--gold", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Gold question set (JSON Lines, see the eval format spec).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Predictions file to write.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown report to write (a latency histogram PNG is written next to it).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N questions.")
@click.option("--retrieval-only", is_flag=True,
              help="No LLM: record the retrieved contexts only and report retrieval metrics.")
@click.option("--compare", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Earlier predictions file: the report marks each question fixed / broken / same.")
@click.pass_context
def eval_cmd(ctx: click.Context, gold: Path, out: Path | None, report: Path | None, limit: int | None,
             retrieval_only: bool, compare: Path | None) -> None:
    """Answer a gold question set and score it (Ctrl-C stops and scores what is done)."""
    from tqdm import tqdm

    from rag.evaluate import RETRIEVAL_KEYS, load_gold, retrieval_prediction, run_eval, score_slices
    from rag.report import ANSWER_KEYS, is_ok, load_predictions, text_table, write_report

    items = load_gold(gold)[:limit]
    old = load_predictions(compare) if compare else None
    if old is not None and not {i.id for i in items} & old.keys():
        click.echo(f"warning: no question of {gold} is in {compare}: nothing to compare", err=True)
    for path in (out, report):
        # Before the run, not after it: a run can take many minutes.
        _writable(path)
    if retrieval_only:
        from rag.answer import Pipeline

        settings = _settings(ctx)
        _ingest_if_empty(settings)
        pipeline = Pipeline.from_settings(settings, load_model=False)

        def ask(question: str) -> dict:
            return retrieval_prediction(pipeline, question)
    else:
        pipeline = _pipeline(ctx, ensure_corpus=True)

        def ask(question: str) -> dict:
            return pipeline.ask(question).prediction()

    label = "recall" if retrieval_only else "accuracy"
    bar = tqdm(total=len(items), unit="q", desc="Evaluating", file=sys.stderr)
    right = [0]

    def progress(item, pred):
        right[0] += is_ok(item, pred, retrieval_only)
        bar.update(1)
        bar.set_postfix({label: f"{right[0] / bar.n:.2f}"})

    preds: dict[str, dict] = {}
    interrupted = False
    try:
        run_eval(items, ask, out, progress, preds=preds)
    except KeyboardInterrupt:
        interrupted = True
    bar.close()
    done = [i for i in items if i.id in preds]
    if interrupted:
        click.echo(f"interrupted: scoring the {len(done)} of {len(items)} questions done", err=True)
    if not done:
        sys.exit(130 if interrupted else 1)
    slices = score_slices(done, preds)
    click.echo(text_table(slices, RETRIEVAL_KEYS if retrieval_only else ANSWER_KEYS))
    if out:
        click.echo(f"predictions written to {out}")
    if report:
        note = f"Gold set `{gold}`" + (f", compared with `{compare}`" if compare else "") + "."
        png = write_report(report, items, preds, slices, old=old, retrieval_only=retrieval_only, note=note)
        click.echo(f"report written to {report} (histogram {png.name})")
    if interrupted:
        sys.exit(130)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Where the data is, what the store holds, which models are used."""
    from rag.info import gather

    data = gather(_settings(ctx))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key, value in data.items():
        if isinstance(value, list):
            click.echo(f"{key}:")
            for v in value:
                click.echo(f"  - {v}")
        else:
            click.echo(f"{key}: {value}")


@cli.command()
@click.option("--webhook", "webhook_url", metavar="URL", default=None,
              help="Webhook mode: the public https:// URL Telegram posts updates to (default: polling).")
@click.option("--listen", default="127.0.0.1", show_default=True, help="Webhook mode: address to listen on.")
@click.option("--port", type=int, default=8443, show_default=True, help="Webhook mode: port to listen on.")
@click.option("--secret-token", envvar="TELEGRAM_WEBHOOK_SECRET", default=None,
              help="Webhook mode (required): secret Telegram sends with every update "
                   "(also TELEGRAM_WEBHOOK_SECRET).")
@click.pass_context
def telegram(ctx: click.Context, webhook_url: str | None, listen: str, port: int,
             secret_token: str | None) -> None:
    """Run the Telegram bot (token in TELEGRAM_BOT_TOKEN; see docs/telegram.md)."""
    from bot.telegram import run_bot

    run_bot(_settings(ctx), webhook_url=webhook_url, listen=listen, port=port, secret_token=secret_token,
            pipeline_factory=lambda: _pipeline(ctx, ensure_corpus=True))


def main() -> None:
    """Console entry point."""
    cli(obj={})


if __name__ == "__main__":
    main()
