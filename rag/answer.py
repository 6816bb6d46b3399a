"""Question → retrieval → evidence → streamed generation → checked, cited answer (or an honest "don't know")."""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.answer_checks import (
    KINDS,
    about_question,
    asks_byline,
    date_for_no_time,
    expected_kind,
    grounding,
    has_kind,
    names_container,
    names_the_asked_person,
    number_for_no_number,
    question_coverage,
    repeats_itself,
    sentence_for_a_name,
    time_for_a_count,
)
from rag.citations import attribute, parse_markers, render, strip_markers
from rag.config import Settings
from rag.embeddings import get_embedder
from rag.errors import KabarError
from rag.evidence import Evidence, focus_sentence, select_evidence
from rag.lang import detect_language
from rag.llm import ChatModel, LanguageModel
from rag.llm_server import estimate_tokens
from rag.model_files import settings_llm
from rag.places import office_forms
from rag.prompting import Prompts, SourceText
from rag.repairs import (
    bracketed_country,
    count_noun_as_written,
    date_as_written,
    dates_in,
    drop_asked_name,
    drop_invented_years,
    drop_restatement,
    fill_dropped_words,
    languages_in_english,
    names_in_english,
    names_in_indonesian,
    numbers_as_written,
    order_as_written,
    quoted_outlet,
    realign,
    repair_span,
    snap_to_evidence,
    source_name_for_mixed,
    spelled_out,
    widen_to_source,
    year_as_written,
)
from rag.retrieve import Retriever
from rag.roles import asked_office_unnamed, check_role
from rag.store import Store, open_store
from rag.text import (
    MONTH_NAMES,
    content_words,
    evidence_terms,
    fold,
    localize_dates,
    normalize_answer,
    spell_out_dates,
    split_sentences,
)
from rag.translate import translate_question

# Words that make a question lean on the previous turn ("when did he go back?", "kapan dia pulang?").
_ANAPHORA = {"he", "she", "it", "they", "him", "her", "his", "its", "their", "them", "there", "then", "that",
             "this", "those", "these", "dia", "ia", "beliau", "mereka", "itu", "tersebut", "ini", "sana",
             "situ", "nya"}
_FOLLOW_UP_MAX_TERMS = 3
# The reason given for an answer whose words the evidence does not hold (it gets a second attempt).
UNGROUNDED = "answer not grounded"
# The reason given for an answer with nothing of the kind asked ("60" for "when …"); it gets one too.
WRONG_KIND = "no {kind} in the answer"
# The reason given for a bare date answering a question that asks for no time; it gets one too.
DATE_NOT_ASKED = "a date, but the question asks for no time"
# The reason given for a span of time or a year answering a how-many question about something else; it gets one too.
TIME_NOT_COUNTED = "a time, but the question counts something else"
# The reasons given for a bare number answering a question that asks for none, for a generation stuck in a loop
# and for a sentence where a name was asked; each gets one too.
NUMBER_NOT_ASKED = "a number, but the question asks for none"
LOOPED = "the answer repeats itself"
NOT_A_NAME = "a sentence, but the question asks for a name"
_WRONG_KINDS = ({WRONG_KIND.format(kind=kind) for kind in KINDS}
                | {DATE_NOT_ASKED, TIME_NOT_COUNTED, NUMBER_NOT_ASKED, LOOPED, NOT_A_NAME})


@dataclass
class Citation:
    """One `[n]` of an answer, resolved to its chunk and document."""

    n: int
    source: str
    chunk_id: str
    title: str
    quote: str
    outlet: str = ""
    date: str = ""


@dataclass
class Context:
    """A retrieved chunk given to the model (prompt order)."""

    rank: int
    source: str
    chunk_id: str
    score: float
    text: str
    title: str = ""
    outlet: str = ""
    date: str = ""
    full_text: str = ""
    byline: str = ""

    @classmethod
    def from_evidence(cls, e: Evidence) -> Context:
        """The context entry for one numbered excerpt given to the model."""
        meta = e.hit.metadata
        return cls(e.n, e.doc_id, e.hit.chunk_id, e.hit.score, e.text, meta.get("title", ""),
                   meta.get("outlet", ""), meta.get("date", ""), e.hit.text, meta.get("byline", ""))


@dataclass
class Answer:
    """Everything a front end shows or an evaluation records about one answer."""

    question: str
    text: str
    abstained: bool
    lang: str
    citations: list[Citation] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)
    latency_s: float = 0.0
    ttft_s: float = 0.0
    tokens_out: int = 0
    prompt_tokens: int = 0
    raw: str = ""
    messages: list = field(default_factory=list, repr=False)  # the prompt as sent (benchmarks, debugging)
    reason: str = ""  # why the answer was withheld, for debugging and reports
    translation: str = ""  # the English question in Indonesian, as searched
    generated: str = ""  # the model's reply as generated, before any repair (`raw` is after them)

    def prediction(self, qid: str | None = None) -> dict[str, Any]:
        """The object of the predictions format (shared/spec/eval-format.md)."""
        out: dict[str, Any] = {} if qid is None else {"id": qid}
        out.update(
            question=self.question,
            answer=self.text,
            abstained=self.abstained,
            citations=[
                {"n": c.n, "source": c.source, "chunk_id": c.chunk_id, "title": c.title, "quote": c.quote}
                for c in self.citations
            ],
            contexts=[
                {"rank": c.rank, "source": c.source, "chunk_id": c.chunk_id, "score": round(c.score, 6),
                 "text": c.text}
                for c in self.contexts
            ],
            latency_s=round(self.latency_s, 3),
            ttft_s=round(self.ttft_s, 3),
            tokens_out=self.tokens_out,
        )
        return out


@dataclass
class Turn:
    question: str
    query: str
    answer: str


@dataclass
class Conversation:
    """The turns of one chat, for follow-up questions."""

    turns: list[Turn] = field(default_factory=list)
    last: Answer | None = None

    def reset(self) -> None:
        self.turns.clear()
        self.last = None


def clean_question(text: str, limit: int) -> str:
    """The question as asked, minus control characters; a clear error when it can't be asked."""
    if not isinstance(text, str):
        raise KabarError("the question must be text")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise KabarError("the question is empty: type a question about the articles")
    if len(text) > limit:
        raise KabarError(f"the question is too long ({len(text)} characters; the limit is {limit})")
    return text


def _is_follow_up(question: str) -> bool:
    tokens = re.findall(r"\w+", fold(question))
    if any(t in _ANAPHORA or (t.endswith("nya") and len(t) > 5) for t in tokens):
        return True
    return len(content_words(question)) <= _FOLLOW_UP_MAX_TERMS - 2


class _StreamGate:
    """Passes generated text on, except a reply that is turning into the "not found" marker."""

    def __init__(self, sink: Callable[[str], None] | None, marker: str):
        self.sink, self.marker, self.buffer, self.open = sink, marker, "", False

    def feed(self, piece: str) -> None:
        if self.sink is None:
            return
        if self.open:
            self.sink(piece)
            return
        self.buffer += piece
        head = self.buffer.lstrip()
        if head and not self.marker.startswith(head[: len(self.marker)].upper()):
            self.open = True
            self.sink(self.buffer)


class Pipeline:
    """The RAG pipeline over one store with one loaded model. Reuse it across questions."""

    def __init__(self, settings: Settings, store: Store, retriever: Retriever, model: LanguageModel | None,
                 prompts: Prompts):
        self.settings = settings
        self.store = store
        self.retriever = retriever
        self.model = model
        self.prompts = prompts
        self._abstain_re = re.compile(
            "|".join(re.escape(normalize_answer(m)) for m in prompts.messages["abstain_markers"])
        )
        self._chat_openers = [normalize_answer(m) for m in prompts.messages.get("chat_openers", [])]
        # The model sometimes copies the translation note of the question into its answer ("… [in
        # Indonesian: …]"); the label before the translation is what marks such an echo.
        label = prompts.message("translation_note", "en").split("{", 1)[0].strip(" ([")
        self._echo_re = re.compile(rf"\s*[\[(]\s*{re.escape(label)}[^\])]*[\])]+") if label else None

    @classmethod
    def from_settings(cls, settings: Settings, load_model: bool = True) -> Pipeline:
        """Open the store and (unless `load_model` is false) load and warm up the LLM.

        `llm.mode: server` uses the LLM server at `llm.server_url` and loads no model file here.
        """
        embedder = get_embedder(settings.models.embedder, settings.embedding)
        store = open_store(settings)
        prompts = Prompts()
        model: LanguageModel | None = None
        if load_model and settings.llm.mode == "server":
            from rag.llm_server import ServerChatModel

            model = ServerChatModel(settings.llm)
        elif load_model:
            model = ChatModel(settings_llm(settings), settings.llm)
        if model is not None and settings.llm.warm_up:
            model.warm_up(prompts.prefix,
                          settings.cache_path / "prefix" if settings.llm.prefix_cache else None)
        return cls(settings, store, Retriever(store, embedder, settings.retrieval), model, prompts)

    def _query(self, question: str, conversation: Conversation | None) -> str:
        if conversation and conversation.turns and _is_follow_up(question):
            return f"{conversation.turns[-1].query} {question}"
        return question

    def translate(self, question: str, lang: str) -> str:
        """The question in the articles' language when it is asked in English (and that is on), else ""."""
        if lang != "en" or not self.settings.retrieval.translate_questions or self.model is None:
            return ""
        return translate_question(self.model, self.prompts, question, self.settings.retrieval.translation_max_tokens)

    def retrieve(self, question: str, lang: str, conversation: Conversation | None = None,
                 translation: str = "", skip: frozenset[str] = frozenset()) -> list[Evidence]:
        """The numbered excerpts the model will read for `question` (and its Indonesian `translation`).

        Chunks in `skip` (ids) are left out and the next best take their place.
        """
        query = self._query(question, conversation)
        # A small model's translation often misses an office ("spokesperson" → "wakil presiden"): the
        # sources' words for the offices the question names go into the search with it.
        searched = f"{translation} {office_forms(question)}".strip() if translation else ""
        r = self.settings.retrieval
        k = r.top_k_en if lang == "en" else r.top_k
        hits = self.retriever.search(query, lang, k=k + len(skip), translation=searched)
        hits = [h for h in hits if h.chunk_id not in skip][:k]
        count: Callable[[str], int] = estimate_tokens
        if self.model:
            # Every sentence's count up front, in one go: with an LLM server that is one wait, not one each.
            sentences = [s for h in hits for s in split_sentences(h.text)]
            known = dict(zip(sentences, self.model.count_tokens_many(sentences), strict=True))
            model = self.model

            def count(text: str) -> int:
                return known[text] if text in known else model.count_tokens(text)
        budget = r.evidence_tokens_en if lang == "en" else r.evidence_tokens
        return select_evidence(f"{question} {translation}".strip(), hits, budget, count, self._similarity(query),
                               self._dense_weight(lang), r.evidence_min_relative)

    def _similarity(self, query: str) -> Callable[[list[str]], list[float]]:
        """Embedding similarity of sentences to `query` (sentence vectors are cached)."""
        embedder = self.retriever.embedder

        def similarity(sentences: list[str]) -> list[float]:
            q = embedder.embed_query(query)
            return [sum(a * b for a, b in zip(q, v, strict=True)) for v in embedder.embed_passages_cached(sentences)]

        return similarity

    def _dense_weight(self, lang: str) -> float:
        r = self.settings.retrieval
        return r.evidence_dense_weight_en if lang == "en" else r.evidence_dense_weight

    def ask(self, question: str, conversation: Conversation | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer `question`; `on_token` receives the reply's text as it is generated."""
        started = time.perf_counter()
        question = clean_question(question, self.settings.answer.max_question_chars)
        if self.model is None:
            raise KabarError("no language model loaded")
        if self.store.count() == 0:
            raise KabarError(f"the store {self.store.location} is empty: run `kabar ingest` first")
        lang = detect_language(question)
        query = self._query(question, conversation)
        translation = self.translate(question, lang)
        evidence = self.retrieve(question, lang, conversation, translation)
        history = []
        if conversation:
            history = [(t.question, t.answer) for t in conversation.turns[-self.settings.answer.history_turns:]]
        messages = self.messages(question, lang, [(e, e.text) for e in evidence], history, translation)

        # Requested before generation: with an LLM server it queues beside this answer instead of after it.
        prompt_tokens = self.model.count_tokens_deferred(str(messages[-1].content))
        gate = _StreamGate(on_token, "NOT FOUND")
        pieces: list[str] = []
        ttft = 0.0
        for piece in self.model.stream(messages):
            if not pieces:
                ttft = time.perf_counter() - started
            pieces.append(piece)
            gate.feed(piece)
        raw = "".join(pieces).strip()
        answer = self._finish(question, lang, raw, evidence, translation)
        answer = self.more_attempts(question, lang, conversation, history, messages, answer, evidence, translation)
        answer.ttft_s = ttft or (time.perf_counter() - started)
        answer.latency_s = time.perf_counter() - started
        answer.tokens_out = len(pieces)
        answer.messages = messages
        answer.translation = translation
        answer.prompt_tokens = prompt_tokens()
        if conversation is not None:
            conversation.turns.append(Turn(question, query, answer.text))
            conversation.last = answer
        return answer

    def messages(self, question: str, lang: str, shown: list[tuple[Evidence, str]], history: list[tuple[str, str]],
                 translation: str) -> list:
        """The chat messages asking `question` from the `shown` text of each excerpt."""
        # The byline costs prompt tokens, so it is shown only to a question about who wrote a story.
        bylines = asks_byline(question)
        # Dates spelled out (an option) are for the model's eyes only: the checks and the user see the source's text.
        spelled = spell_out_dates if self.settings.answer.spell_out_dates else str
        sources = [SourceText(e.n, e.hit.metadata.get("outlet", ""), e.hit.metadata.get("date", ""), spelled(text),
                              e.hit.metadata.get("byline", "") if bylines else "")
                   for e, text in shown]
        return self.prompts.build(question, sources, lang, history,
                                  translation if self.settings.answer.show_translation else "")

    def more_attempts(self, question: str, lang: str, conversation: Conversation | None,
                      history: list[tuple[str, str]], messages: list, answer: Answer, evidence: list[Evidence],
                      translation: str) -> Answer:
        """`answer`, or a later attempt's that passes the checks when `answer` was withheld.

        An answer withheld for a reason another attempt may fix (its words are not the sources', or it
        has nothing of the kind asked) is generated again from `messages`, then from its best sentence;
        a question still declined is asked from the next best excerpts.
        """
        retry = answer.reason.startswith(UNGROUNDED) or answer.reason in _WRONG_KINDS
        if answer.abstained and retry and self.settings.answer.retry_ungrounded:
            answer = self._second_attempt(question, lang, messages, answer, evidence, translation)
            if answer.abstained and self.settings.answer.focused_retry:
                answer = self._focused_attempt(question, lang, self._query(question, conversation), history, answer,
                                               evidence, translation)
        if answer.abstained and self.settings.answer.next_excerpts and evidence:
            answer = self.next_excerpts(question, lang, conversation, history, translation, answer)
        return answer

    def next_excerpts(self, question: str, lang: str, conversation: Conversation | None,
                      history: list[tuple[str, str]], translation: str, first: Answer) -> Answer:
        """The answer from the next best excerpts when the best ones gave none that passes the checks.

        The passage that answers is often ranked just below the ones shown (FacQA valid: in 8 of the
        24 questions the bot declined, at chunk rank 4 to 7).
        """
        evidence = self.retrieve(question, lang, conversation, translation,
                                 frozenset(c.chunk_id for c in first.contexts))
        floor = self.settings.answer.next_excerpts_coverage
        # What the answer may cite is some of these excerpts: when all of them together fall short of the
        # floor, no answer from them could be kept, and the generation is not worth its seconds.
        if not evidence or _coverage(question, lang, translation, " ".join(e.text for e in evidence)) < floor:
            return first
        messages = self.messages(question, lang, [(e, e.text) for e in evidence], history, translation)
        answer = self._attempt(question, lang, messages, evidence, translation, first, repair_spans=True)
        if answer is first:
            return first
        # Excerpts ranked lower match the question more loosely, and a small model answers from what it is
        # shown: the excerpt it cites must hold nearly all the question's terms itself.
        cited = " ".join(e.text for e in evidence if e.n in {c.n for c in answer.citations})
        return answer if _coverage(question, lang, translation, cited) >= floor else first

    def _second_attempt(self, question: str, lang: str, messages: list, first: Answer, evidence: list[Evidence],
                        translation: str) -> Answer:
        """The answer from one more generation that may not begin as the withheld `first` did, if it passes.

        A small model that restates the question ("Presiden Direktur perusahaan apakah Yue Shao Dong?"
        → "Yue Shao Dong") usually has the right answer as its next choice.
        """
        return self._attempt(question, lang, messages, evidence, translation, first, avoid=first.raw)

    def _focused_attempt(self, question: str, lang: str, query: str, history: list[tuple[str, str]], first: Answer,
                         evidence: list[Evidence], translation: str) -> Answer:
        """The answer from the one excerpt sentence that matches the question best, if it passes the checks.

        A small model that fails on a few excerpts often copies the answer right when it reads only
        the sentence that holds it ("Cak Nur, panggilan akrab Nurcholish, …").
        """
        focus = focus_sentence(f"{question} {translation}".strip(), evidence, self._similarity(query),
                               self._dense_weight(lang))
        if focus is None:
            return first
        messages = self.messages(question, lang, [focus], history, translation)
        return self._attempt(question, lang, messages, evidence, translation, first)

    def _attempt(self, question: str, lang: str, messages: list, evidence: list[Evidence], translation: str,
                 first: Answer, avoid: str = "", repair_spans: bool = False) -> Answer:
        """One more generation from `messages`, checked against `evidence`; `first` when it gives nothing
        or is withheld too."""
        raw = self.model.complete(messages, self.settings.llm.max_tokens, [], avoid=avoid).strip()
        if not raw:
            return first
        # No span repair by default: picking a name from another clause on top of a second guess stacks two guesses.
        answer = self._finish(question, lang, raw, evidence, translation, repair_spans=repair_spans)
        return first if answer.abstained else answer

    @staticmethod
    def _shown(evidence: list[Evidence]) -> str:
        """What the sources say: each excerpt with its article's outlet, date and byline."""
        return " ".join(f"{e.hit.metadata.get('outlet', '')} {_readable_date(e.hit.metadata.get('date', ''))} "
                        f"{e.hit.metadata.get('byline', '')} {e.text}" for e in evidence)

    def _abstention_reason(self, question: str, lang: str, raw: str, body: str, evidence: list[Evidence],
                           translation: str = "") -> str:
        norm = normalize_answer(raw)
        if not norm or self._abstain_re.search(norm):
            return "model: not in sources"
        if any(f"{norm} ".startswith(f"{opener} ") for opener in self._chat_openers):
            return "model: small talk, not an answer"
        kind = expected_kind(question)
        if kind and not has_kind(body, kind):
            return WRONG_KIND.format(kind=kind)
        if names_the_asked_person(body, question):
            return f"{UNGROUNDED} (it names the question's own person)"
        if date_for_no_time(body, question):
            return DATE_NOT_ASKED
        if time_for_a_count(body, question):
            return TIME_NOT_COUNTED
        if number_for_no_number(body, question):
            return NUMBER_NOT_ASKED
        if repeats_itself(body):
            return LOOPED
        if sentence_for_a_name(body, question):
            return NOT_A_NAME
        if kind == "time" and _only_the_articles_date(body, evidence):
            return "the date is only the article's own date"
        shown = self._shown(evidence)
        names, numbers_ok = grounding(body, question, shown, lang)
        if not numbers_ok:
            return "a number or date of the answer is not in the sources"
        if names < self.settings.answer.min_grounding:
            return f"{UNGROUNDED} ({names:.2f})"
        if names_container(body, question, shown):
            return "the answer names only what contains the place asked about"
        # An excerpt is part of a story: its title and first sentence say what the excerpt is about
        # ("the event" of an excerpt is the parade in Beijing that its story's first sentence names).
        retrieved = " ".join(f"{e.hit.metadata.get('title', '')} {e.hit.metadata.get('lede', '')} {e.hit.text}"
                             for e in evidence)
        coverage = _coverage(question, lang, translation, retrieved)
        if coverage < self.settings.answer.min_question_coverage:
            return f"question not covered by the sources ({coverage:.2f})"
        return ""

    def _finish(self, question: str, lang: str, raw: str, evidence: list[Evidence], translation: str = "",
                repair_spans: bool = True) -> Answer:
        contexts = [Context.from_evidence(e) for e in evidence]

        generated = raw

        def withheld(reason: str) -> Answer:
            return Answer(question, self.prompts.message("not_found", lang), True, lang, [], contexts,
                          raw=raw, reason=reason, generated=generated)

        if self._echo_re is not None:
            raw = self._echo_re.sub("", raw).strip()
        by_n = {e.n: e for e in evidence}
        repaired = repair_spans and repair_span(strip_markers(raw), question, lang, [e.text for e in evidence])
        if repaired:
            raw = f"{repaired}."
        # The question restated before the answer, or the asked person after it, is not the answer.
        short = drop_asked_name(drop_restatement(strip_markers(raw), question), question)
        if short != strip_markers(raw):
            raw = _with_markers_of(raw, short.rstrip(". "))
        # A year must come from the excerpt the answer cites (another excerpt may be another event);
        # the repairs below keep the markers, so these stay the cited excerpts.
        cited_now = [by_n[n] for n in parse_markers(raw) if n in by_n]
        cited_text = self._shown(cited_now or evidence)
        raw = year_as_written(drop_invented_years(raw, cited_text), cited_text)
        if lang == "id":  # an answer in the articles' language should be their very words
            texts = [e.text for e in evidence]
            short = strip_markers(raw)
            snapped = (order_as_written(short, texts) or fill_dropped_words(short, texts)
                       or snap_to_evidence(short, texts) or realign(short, texts))
            if snapped:
                raw = _with_markers_of(raw, snapped)
            excerpts = " ".join(e.text for e in evidence)
            for repair in (date_as_written, names_in_indonesian, count_noun_as_written, numbers_as_written):
                raw = repair(raw, excerpts)
        else:
            # Before the place names turn English: "Amerika Serikat" → "United States" is no half-translation.
            raw = source_name_for_mixed(raw, question, [e.text for e in evidence]) or raw
            raw = names_in_english(raw)
            spoken = languages_in_english(strip_markers(raw), question, [e.text for e in evidence])
            if spoken:
                raw = _with_markers_of(raw, spoken)
        # The cited excerpt's wording first: the same words may stand elsewhere in another sense.
        in_order = [e.text for e in cited_now] + [e.text for e in evidence if e not in cited_now]
        if asked_office_unnamed(question, in_order):
            return withheld("the sources name no holder of the office asked")
        role = check_role(strip_markers(raw), question, in_order, lang)
        if role.conflict and not role.replacement:
            return withheld("the answer holds another office than the one asked")
        if role.replacement:
            raw = f"{role.replacement}."
        short = strip_markers(raw)
        # Who the story quotes, or the person marked with the asked country, instead of the model's pick.
        better = (quoted_outlet(short, question, [(e.hit.metadata.get("outlet", ""), e.text) for e in evidence])
                  or bracketed_country(short, question, in_order))
        if better:
            raw = _with_markers_of(raw, better)
            short = better
        widened = spelled_out(short, in_order) or widen_to_source(short, question, lang, in_order)
        if widened:
            raw = _with_markers_of(raw, widened)
        sentences = attribute(raw, {e.n: f"{e.text} {e.hit.metadata.get('byline', '')}" for e in evidence})
        body = " ".join(s.text for s in sentences)
        reason = self._abstention_reason(question, lang, raw, body, evidence, translation)
        if reason:
            return withheld(reason)
        if not any(s.sources for s in sentences) and evidence:
            sentences[-1].sources = [1]
        cited = [by_n[n].text for n in dict.fromkeys(n for s in sentences for n in s.sources)]
        if not any(about_question(question, lang, t) or (translation and about_question(translation, "id", t))
                   for t in cited):
            return withheld("the cited passage is not about the question")
        for s in sentences:
            s.text = localize_dates(s.text, lang)
        text = render(sentences)
        citations = []
        for n in dict.fromkeys(n for s in sentences for n in s.sources):
            e = by_n[n]
            quote = max(
                (s.text for s in sentences if n in s.sources), key=len, default=""
            )
            citations.append(Citation(n, e.doc_id, e.hit.chunk_id, e.hit.metadata.get("title", ""),
                                      _best_quote(quote, e.text), e.hit.metadata.get("outlet", ""),
                                      e.hit.metadata.get("date", "")))
        return Answer(question, text, False, lang, citations, contexts, raw=raw, generated=generated)


def _coverage(question: str, lang: str, translation: str, text: str) -> float:
    """The share of the question's terms that `text` holds, in the question's words or its translation's."""
    coverage = question_coverage(question, lang, text)
    if translation:
        # An English question's terms are mostly paraphrased in the articles; its translation's are not.
        coverage = max(coverage, question_coverage(translation, "id", text))
    return coverage


def _only_the_articles_date(answer: str, evidence: list[Evidence]) -> bool:
    """Whether the answer's day and month is an article's date that no excerpt writes in its text.

    The header of each excerpt shows its article's date, which rightly completes a date the text
    gives without a year ("27 Juli" + 2023); a when-answer whose very day comes from there alone
    dates the report, not the event asked about.
    """
    said = {d for d in dates_in(answer) if isinstance(d, tuple)}
    published = {(day.day, day.month) for e in evidence if (day := _article_date(e.hit.metadata.get("date", "")))}
    if not said or not said <= published:
        return False
    written = evidence_terms(" ".join(e.text for e in evidence))
    return not any(str(d) in written and f"month{m}" in written for d, m in said)


def _with_markers_of(raw: str, text: str) -> str:
    """`text` as the answer, citing what `raw` cited."""
    return " ".join([text, *(f"[{n}]" for n in parse_markers(raw))]) + "."


def _article_date(iso: str) -> dt.date | None:
    """An article's ISO date ("2025-08-27"), or None when it has none or it does not parse."""
    try:
        return dt.date.fromisoformat(iso)
    except ValueError:
        return None


def _readable_date(iso: str) -> str:
    """"2025-08-27" → "27 August 2025": the article date in words the answer checks can match."""
    d = _article_date(iso)
    return f"{d.day} {MONTH_NAMES['en'][d.month - 1]} {d.year}" if d else iso


def _best_quote(answer_sentence: str, excerpt: str) -> str:
    """The excerpt sentence that shares most with the answer sentence: what the citation points at."""
    target = evidence_terms(answer_sentence)
    sents = split_sentences(excerpt) or [excerpt]
    return max(sents, key=lambda s: len(evidence_terms(s) & target))
