"""A fast stand-in for rag.answer.Pipeline with the same `ask` signature, for the bot's unit tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from rag.answer import Answer, Citation, Context, Conversation, Turn, clean_question

SOURCE = "000_c5a5360e97af4f8b.txt"
PASSAGE = "KTT SCO sendiri akan berlangsung di Tianjin pada 31 Agustus hingga 1 September."


def echo(question: str) -> str:
    """The default reply: names the question, so a test can match answers to questions."""
    return f"Answer to «{question}» [1]."


class FakePipeline:
    """Streams `reply(question)` in `pieces` pieces over `delay` seconds, like the real one (blocking)."""

    def __init__(self, reply: Callable[[str], str] = echo, delay: float = 0.0, pieces: int = 4,
                 limit: int = 1000, error: Exception | None = None):
        self.reply, self.delay, self.pieces, self.limit, self.error = reply, delay, pieces, limit, error
        self.asked: list[str] = []
        self.threads: set[str] = set()
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def ask(self, question: str, conversation: Conversation | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer like Pipeline.ask: clean the question, stream, return a cited Answer."""
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            question = clean_question(question, self.limit)
            self.asked.append(question)
            if self.error is not None:
                raise self.error
            text = self.reply(question)
            self._stream(text, on_token)
            article = ("Putin akan ke China", "iNews.id", "2025-08-27")
            answer = Answer(
                question, text, False, "en",
                [Citation(1, SOURCE, f"{SOURCE}#1", article[0], PASSAGE, *article[1:])],
                [Context(1, SOURCE, f"{SOURCE}#1", 1.0, PASSAGE, *article, PASSAGE + " (full chunk)")],
            )
            if conversation is not None:
                conversation.turns.append(Turn(question, question, text))
                conversation.last = answer
            return answer
        finally:
            with self._lock:
                self.active -= 1

    def _stream(self, text: str, on_token: Callable[[str], None] | None) -> None:
        size = max(1, -(-len(text) // self.pieces))
        for i in range(0, len(text), size):
            time.sleep(self.delay / self.pieces)
            if on_token:
                on_token(text[i:i + size])
