"""Prompt templates from `prompts/`, rendered into chat messages with LangChain."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import PromptTemplate

from rag.config import PROMPTS_DIR
from rag.errors import KabarError


@dataclass
class SourceText:
    """One numbered excerpt as the model sees it."""

    n: int
    outlet: str
    date: str
    text: str
    byline: str = ""  # shown only when the question asks who wrote or edited a story


class Prompts:
    """The templates of one prompts folder."""

    def __init__(self, folder: Path = PROMPTS_DIR):
        self.folder = folder
        try:
            self.system = (folder / "system.txt").read_text(encoding="utf-8").strip()
            self.question = PromptTemplate.from_file(folder / "question.txt", encoding="utf-8")
            self.history = PromptTemplate.from_file(folder / "history.txt", encoding="utf-8")
            self.source = PromptTemplate.from_file(folder / "source.txt", encoding="utf-8")
            self.translate = PromptTemplate.from_file(folder / "translate.txt", encoding="utf-8")
            self.examples = yaml.safe_load((folder / "examples.yaml").read_text(encoding="utf-8")) or []
            self.messages = yaml.safe_load((folder / "messages.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise KabarError(f"cannot load the prompt templates in {folder}: {exc}") from None

    def message(self, key: str, lang: str) -> str:
        """A fixed user-facing text (messages.yaml) in language `lang`."""
        texts = self.messages[key]
        return texts.get(lang) or texts["id"]

    def render_sources(self, sources: list[SourceText]) -> str:
        return "\n".join(
            self.source.format(n=s.n, outlet=s.outlet or "?", date=s.date or "?", text=s.text,
                               byline=f", {s.byline}" if s.byline else "").strip()
            for s in sources
        )

    def render_question(self, question: str, sources: list[SourceText], lang: str,
                        history: list[tuple[str, str]] | None = None, translation: str = "") -> str:
        turns = "\n".join(f"Q: {q}\nA: {a}" for q, a in (history or []))
        return self.question.format(
            history=self.history.format(turns=turns) if turns else "",
            sources=self.render_sources(sources),
            question=question,
            translation=self.message("translation_note", lang).format(translation=translation) if translation else "",
            language_instruction=self.message("language_instruction", lang),
        ).strip()

    @functools.cached_property
    def prefix(self) -> list[BaseMessage]:
        """The static part of every prompt: system rules and worked examples (kept in llama.cpp's cache)."""
        msgs: list[BaseMessage] = [SystemMessage(self.system)]
        for ex in self.examples:
            sources = [SourceText(i, s.get("outlet", ""), str(s.get("date", "")), s["text"])
                       for i, s in enumerate(ex["sources"], 1)]
            msgs.append(HumanMessage(self.render_question(ex["question"], sources, ex.get("lang", "id"))))
            msgs.append(AIMessage(ex["answer"]))
        return msgs

    def build(self, question: str, sources: list[SourceText], lang: str,
              history: list[tuple[str, str]] | None = None, translation: str = "") -> list[BaseMessage]:
        """Full chat messages for one question: the static prefix, then this question's turn."""
        return [*self.prefix, HumanMessage(self.render_question(question, sources, lang, history, translation))]
