"""An answer withheld as not grounded gets one more generation that may not start the same way."""

from rag.answer import UNGROUNDED, Pipeline
from rag.config import load_settings
from rag.evidence import Evidence
from rag.prompting import Prompts
from rag.retrieve import Hit

EXCERPT = ("Demikian hasil nota kesepahaman antara Presiden Direktur Sinopec Southwest Petroleum Biro "
           "Yue Shao Dong dan Direktur Utama PT Indelberg Indonesia Utaryo Suwanto di Chengdu.")
QUESTION = "Presiden Direktur perusahaan apakah Yue Shao Dong?"


class ScriptedModel:
    """Streams `first`; a second request (with `avoid`) gets `second`."""

    def __init__(self, first: str, second: str):
        self.first, self.second, self.avoided = first, second, []

    def stream(self, messages: list):
        yield self.first

    def complete(self, messages: list, max_tokens: int, stop: list[str], avoid: str = "") -> str:
        self.avoided.append(avoid)
        return self.second

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]

    def count_tokens_deferred(self, text: str):
        return lambda: self.count_tokens(text)


def _evidence() -> list[Evidence]:
    return [Evidence(1, Hit("d#1", EXCERPT, {"source": "d", "title": "Minyak"}, 1.0), EXCERPT)]


def _attempt(model: ScriptedModel, retry: bool = True):
    settings = load_settings(None, answer={"retry_ungrounded": retry})
    pipe = Pipeline(settings, None, None, model, Prompts())
    first = pipe._finish(QUESTION, "id", model.first, _evidence())
    assert first.abstained and first.reason.startswith(UNGROUNDED)  # it only restates the question
    return pipe._second_attempt(QUESTION, "id", [], first, _evidence(), "")


def test_a_restated_question_gets_a_second_answer_that_may_not_start_the_same_way():
    model = ScriptedModel("Yue Shao Dong [1].", "Sinopec Southwest Petroleum Biro [1].")
    answer = _attempt(model)
    assert model.avoided == ["Yue Shao Dong [1]."]
    assert not answer.abstained and "Sinopec Southwest Petroleum Biro" in answer.text
    assert [c.source for c in answer.citations] == ["d"]


def test_a_second_answer_that_fails_the_checks_keeps_the_first_withheld():
    model = ScriptedModel("Yue Shao Dong [1].", "PT Pertamina [1].")  # not in the evidence
    answer = _attempt(model)
    assert answer.abstained and answer.reason.startswith(UNGROUNDED) and answer.citations == []


def test_the_real_model_does_not_start_with_the_avoided_token(pipeline):
    from langchain_core.messages import HumanMessage

    model = pipeline.model
    messages = [HumanMessage("Reply with exactly: Yes")]
    plain = model.complete(messages, 4, [])
    steered = model.complete(messages, 4, [], avoid=plain)
    first = model.llama.tokenize(plain.strip().encode(), add_bos=False, special=False)[0]
    assert steered.strip() and model.llama.tokenize(steered.strip().encode(), add_bos=False, special=False)[0] != first


def test_english_questions_weigh_sentence_meaning_more_when_choosing_evidence(monkeypatch):
    import rag.answer

    class Retriever:
        embedder = None

        def search(self, query, lang, translation=""):
            return [Hit("d#1", EXCERPT, {"source": "d"}, 1.0)]

    seen = []
    monkeypatch.setattr(rag.answer, "select_evidence", lambda *args: seen.append(args[5]) or [])
    settings = load_settings(None, retrieval={"evidence_dense_weight": 1.0, "evidence_dense_weight_en": 2.5})
    pipe = Pipeline(settings, None, Retriever(), None, Prompts())
    pipe.retrieve("Which company does Yue Shao Dong lead?", "en")
    pipe.retrieve(QUESTION, "id")
    assert seen == [2.5, 1.0]


def test_the_model_reads_dateline_dates_with_the_month_named_and_the_user_gets_the_source_form(monkeypatch):
    """A small model misreads "(5/10)" (it answered "5 Desember"); it is shown "(5 Oktober)" instead."""
    text = "Robert H Grubbs memperoleh Nobel Kimia 2005 yang diumumkan di Stockholm, Rabu (5/10)."

    class Store:
        def count(self):
            return 1

    class Model(ScriptedModel):
        def stream(self, messages: list):
            self.prompt = messages[-1].content
            yield "Rabu (5 Oktober) [1]."

    def ask(spell_out: bool):
        evidence = [Evidence(1, Hit("d#1", text, {"source": "d", "title": "Nobel"}, 1.0), text)]
        model = Model("", "")
        pipe = Pipeline(load_settings(None, answer={"spell_out_dates": spell_out}), Store(), None, model, Prompts())
        monkeypatch.setattr(pipe, "retrieve", lambda *args, **kwargs: evidence)
        return pipe.ask("Kapan Robert H Grubbs memperoleh Nobel Kimia 2005?"), model.prompt

    answer, prompt = ask(True)
    assert "Rabu (5 Oktober)." in prompt and "(5/10)" not in prompt
    assert answer.text.startswith("Rabu (5/10) [1]") and not answer.abstained
    assert answer.contexts[0].text == text  # what the user is shown as the source is the source
    _, prompt = ask(False)
    assert "Rabu (5/10)." in prompt


def test_an_answer_of_the_wrong_kind_gets_a_second_attempt_too(monkeypatch):
    """ "60" (an age) for "Kapan …" is withheld; the next reply, a date the excerpt gives, is shown."""
    # Two dates in the one sentence: the wrong-clause repair cannot choose, the second attempt does.
    text = "Kartono Ryadi, yang lahir pada 30 Juni 1945 dan pensiun pada 2003, kini berusia 60 tahun."

    class Store:
        def count(self):
            return 1

    def ask(retry: bool):
        evidence = [Evidence(1, Hit("d#1", text, {"source": "d", "title": "Kartono"}, 1.0), text)]
        model = ScriptedModel("60 [1].", "30 Juni 1945 [1].")
        pipe = Pipeline(load_settings(None, answer={"retry_ungrounded": retry}), Store(), None, model, Prompts())
        monkeypatch.setattr(pipe, "retrieve", lambda *args, **kwargs: evidence)
        return pipe.ask("Kapan Kartono Ryadi lahir?"), model

    answer, model = ask(True)
    assert model.avoided == ["60 [1]."] and "30 Juni 1945 [1]" in answer.text and not answer.abstained
    answer, model = ask(False)
    assert answer.abstained and answer.reason == "no time in the answer" and model.avoided == []
