"""`kabar chat`: a terminal conversation about the articles."""

from __future__ import annotations

import contextlib

import click

from bot.render import AnswerPrinter
from rag.answer import Conversation, Pipeline
from rag.errors import KabarError

HELP = """Ask a question about the articles, in Indonesian or English. Follow-up questions use the
conversation so far. Commands:
  /sources  the cited passages of the last answer, in full
  /reset    forget the conversation
  /help     this text
  /quit     leave (or Ctrl-D)"""


def show_sources(conversation: Conversation) -> None:
    """Print the full passages behind the last answer's citations."""
    last = conversation.last
    if last is None:
        click.echo("No answer yet.")
        return
    if not last.citations:
        click.echo("The last answer cites no source.")
        return
    by_chunk = {c.chunk_id: c for c in last.contexts}
    for cit in last.citations:
        ctx = by_chunk.get(cit.chunk_id)
        where = ", ".join(x for x in (cit.outlet, cit.date) if x)
        click.echo(click.style(f"[{cit.n}] {cit.title} — {where} ({cit.source})", bold=True))
        click.echo((ctx.full_text if ctx else cit.quote) + "\n")


def run_chat(pipeline: Pipeline) -> None:
    """The read-answer loop; returns on /quit, Ctrl-D or Ctrl-C at the prompt."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    conversation = Conversation()
    click.echo("Kabar — ask about the articles. /help for commands, /quit to leave.")
    while True:
        try:
            line = input("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not line:
            continue
        command = line.lower()
        if command in ("/quit", "/exit", "/q"):
            return
        if command == "/help":
            click.echo(HELP)
        elif command == "/reset":
            conversation.reset()
            click.echo("Conversation forgotten.")
        elif command == "/sources":
            show_sources(conversation)
        elif command.startswith("/"):
            click.echo(f"Unknown command {line.split()[0]}; /help lists them.")
        else:
            printer = AnswerPrinter()
            try:
                printer.finish(pipeline.ask(line, conversation, on_token=printer.stream))
            except KabarError as exc:
                click.echo(f"\n{exc}")
            except KeyboardInterrupt:
                click.echo("\n(answer interrupted)")
