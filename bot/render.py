"""Terminal rendering of answers: streamed text, then the checked answer and its sources."""

from __future__ import annotations

import shutil
import sys

import click

from rag.answer import Answer


def source_lines(answer: Answer) -> list[str]:
    """One line per cited source: `[n] title — outlet, date (document id)`."""
    lines = []
    for c in answer.citations:
        where = ", ".join(x for x in (c.outlet, c.date) if x)
        lines.append(f"[{c.n}] {c.title} — {where or 'unknown outlet'} ({c.source})")
    return lines


class AnswerPrinter:
    """Streams tokens to a terminal, then replaces them with the final answer (citations checked)."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.live = self.out.isatty()
        self.streamed = ""

    def stream(self, piece: str) -> None:
        """Show a generated piece right away (terminals only: pipes get the final text once)."""
        if self.live:
            self.streamed += piece
            self.out.write(piece)
            self.out.flush()

    def _erase_streamed(self) -> None:
        if not self.streamed:
            return
        width = max(shutil.get_terminal_size().columns, 20)
        rows = sum(max(1, -(-len(line) // width)) for line in self.streamed.split("\n"))
        self.out.write("\r" + (f"\033[{rows - 1}A" if rows > 1 else "") + "\033[J")

    def finish(self, answer: Answer) -> None:
        """Print the final answer and its numbered sources."""
        if self.live:
            self._erase_streamed()
        self.streamed = ""
        click.echo(answer.text, file=self.out)
        lines = source_lines(answer)
        if lines:
            click.echo("\nSources:", file=self.out)
            for line in lines:
                click.echo(f"  {line}", file=self.out)
