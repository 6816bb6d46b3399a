"""English questions → Indonesian search queries, by the loaded chat model.

The articles are Indonesian and the embedder matches across languages only loosely, so an
English question finds the passage that answers it far more often through its Indonesian
translation (measured in the README's results log). The request reuses the answer prompt's
static prefix, which llama.cpp keeps evaluated, so only the question's own tokens cost time.
"""

from __future__ import annotations

import re

from langchain_core.messages import HumanMessage

from rag.llm import LanguageModel
from rag.prompting import Prompts

# A translation longer than this many times the question's characters has run off into an answer.
_MAX_GROWTH = 3
# A year: one the question does not write was made up by the model ("In what year did …" → "Di tahun
# 2018, …"), and shown beside the question it becomes the answer.
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
# How an Indonesian question reads: a question mark or a question word. A "translation" of a question
# without either is a statement: the model answered ("CGSC adalah singkatan dari …"), often wrongly.
_ASKING = re.compile(r"\?|\b(?:apa|siapa|kapan|di\s?mana|mana|berapa|bagaimana|mengapa|kenapa)(?:kah)?\b",
                     re.IGNORECASE)


def translate_question(model: LanguageModel, prompts: Prompts, question: str, max_tokens: int) -> str:
    """The Indonesian translation of `question` (one line), or "" when the model gives none."""
    messages = [*prompts.prefix, HumanMessage(prompts.translate.format(question=question).strip())]
    text = model.complete(messages, max_tokens=max_tokens, stop=["\n"]).strip()
    text = re.sub(r"^[\"'“”]+|[\"'“”]+$", "", text).strip()
    if not text or len(text) > _MAX_GROWTH * len(question) + 20 or not re.search(r"\w", text):
        return ""
    if set(_YEAR.findall(text)) - set(_YEAR.findall(question)):
        return ""
    if question.rstrip().endswith("?") and not _ASKING.search(text):
        return ""
    return text
