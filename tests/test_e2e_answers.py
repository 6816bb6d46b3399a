"""End to end with the real models: the seeds in a real Chroma store, the packaged LLM answering."""

import pytest

from rag.answer import Conversation
from rag.evaluate import citation_problems

pytestmark = pytest.mark.e2e

TIANJIN = "000_c5a5360e97af4f8b.txt"
KOREA = "004_49bd237b7ccad95f.txt"
SAMARKAND = {"002_ff8ad90726eb07f1.txt", "003_128769e0cb1e69e9.txt"}


def _check_format(answer):
    pred = answer.prediction("q")
    assert citation_problems(pred) == []
    return pred


def test_indonesian_date_question_is_answered_and_cited(pipeline):
    answer = pipeline.ask("Kapan KTT SCO di Tianjin berlangsung?")
    _check_format(answer)
    assert not answer.abstained
    assert "31 Agustus" in answer.text
    assert "[" in answer.text
    assert {c.source for c in answer.citations} == {TIANJIN}


def test_english_question_gets_english_answer_with_citation(pipeline):
    answer = pipeline.ask("Who led the Russian military delegation to North Korea?")
    _check_format(answer)
    assert answer.lang == "en"
    assert "Shoigu" in answer.text
    assert KOREA in {c.source for c in answer.citations}


def test_an_english_office_is_found_whatever_the_translation_makes_of_it(pipeline):
    # The 1.5B model translated "spokesperson" as "wakil presiden": the office's Indonesian words are searched too.
    answer = pipeline.ask("Who is the spokesperson of the Russian presidency?")
    _check_format(answer)
    assert "Peskov" in answer.text
    assert TIANJIN in {c.source for c in answer.citations}


def test_similar_event_is_told_apart_by_place_and_year(pipeline):
    answer = pipeline.ask("Di kota mana KTT SCO tahun 2022 diadakan?")
    _check_format(answer)
    assert "Samarkand" in answer.text
    assert {c.source for c in answer.citations} <= SAMARKAND


def test_unanswerable_question_is_declined_without_citations(pipeline):
    answer = pipeline.ask("Berapa harga mobil Mitsubishi XForce yang dipromosikan?")
    pred = _check_format(answer)
    assert answer.abstained
    assert pred["citations"] == [] and "[" not in answer.text
    assert "tidak menyebutkan" in answer.text


def test_streaming_and_follow_up(pipeline):
    pieces = []
    conv = Conversation()
    first = pipeline.ask("Siapa yang memimpin delegasi militer Rusia ke Korea Utara?", conv, on_token=pieces.append)
    assert pieces and "Shoigu" in "".join(pieces)
    assert first.ttft_s <= first.latency_s
    assert first.tokens_out >= len(pieces) > 0
    follow = pipeline.ask("Siapa yang memimpin delegasi China?", conv)
    assert "Li Hongzhong" in follow.text
    assert len(conv.turns) == 2


def test_an_answer_does_not_depend_on_the_question_asked_before(pipeline):
    question = "Kapan KTT SCO di Tianjin berlangsung?"
    alone = pipeline.ask(question)
    pipeline.ask("Who led the Russian military delegation to North Korea?")  # a translation and an answer between
    again = pipeline.ask(question)
    assert (again.raw, again.text) == (alone.raw, alone.text)
    llama, static = pipeline.model.llama, pipeline.model._static
    # Every new prompt is evaluated from the end of the static prefix the warm-up put in the cache.
    assert 0 < static < llama.n_tokens
    pipeline.model._fresh()
    assert llama.n_tokens == static
