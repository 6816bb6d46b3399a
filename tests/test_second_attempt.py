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

        def search(self, query, lang, k=None, translation=""):
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
        settings = load_settings(None, answer={"retry_ungrounded": retry, "next_excerpts": False})
        pipe = Pipeline(settings, Store(), None, model, Prompts())
        monkeypatch.setattr(pipe, "retrieve", lambda *args, **kwargs: evidence)
        return pipe.ask("Kapan Kartono Ryadi lahir?"), model

    answer, model = ask(True)
    assert model.avoided == ["60 [1]."] and "30 Juni 1945 [1]" in answer.text and not answer.abstained
    answer, model = ask(False)
    assert answer.abstained and answer.reason == "no time in the answer" and model.avoided == []


class PromptedModel(ScriptedModel):
    """Replies with `replies(prompt, avoid)`, and keeps every prompt it was sent."""

    def __init__(self, replies):
        super().__init__("", "")
        self.replies, self.prompts = replies, []

    def stream(self, messages: list):
        self.prompts.append(str(messages[-1].content))
        yield self.replies(self.prompts[-1], "")

    def complete(self, messages: list, max_tokens: int, stop: list[str], avoid: str = "") -> str:
        self.prompts.append(str(messages[-1].content))
        self.avoided.append(avoid)
        return self.replies(self.prompts[-1], avoid)


class OneStore:
    def count(self):
        return 1


def test_the_focus_sentence_is_the_one_holding_the_words_only_it_shares_with_the_question():
    from rag.evidence import focus_sentence

    first = "Jakarta, Kompas - Presiden menjenguk cendekiawan Budi Santoso (66) di rumah sakit."
    second = "Dalam pertemuan itu, Pak Bud, panggilan akrab Budi Santoso, berpesan agar negeri diurus dengan baik."
    evidence = [Evidence(1, Hit("d#1", first, {"source": "d"}, 1.0), first),
                Evidence(2, Hit("d#2", second, {"source": "d"}, 0.9), second)]
    # Both name the person asked about; only the second holds "panggilan akrab".
    e, sentence = focus_sentence("Apakah panggilan akrab untuk Budi Santoso?", evidence)
    assert e.n == 2 and sentence == second
    assert focus_sentence("Apakah panggilan akrab untuk Budi Santoso?", evidence[:1]) is None


def test_an_answer_withheld_twice_is_asked_again_from_its_best_sentence_alone(monkeypatch):
    first = "Jakarta, Kompas - Presiden menjenguk cendekiawan Budi Santoso (66) di rumah sakit."
    second = "Dalam pertemuan itu, Pak Bud, panggilan akrab Budi Santoso, berpesan agar negeri diurus dengan baik."
    evidence = [Evidence(1, Hit("d#1", first, {"source": "d", "title": "Budi"}, 1.0), first),
                Evidence(2, Hit("d#2", second, {"source": "d", "title": "Budi"}, 0.9), second)]

    def replies(prompt: str, avoid: str) -> str:
        # Shown both excerpts the model restates the question; shown the one sentence it copies the answer.
        return "Pak Bud [2]." if first not in prompt else "Budi Santoso [1]."

    def ask(focused: bool):
        model = PromptedModel(replies)
        settings = load_settings(None, answer={"focused_retry": focused, "next_excerpts": False})
        pipe = Pipeline(settings, OneStore(), None, model, Prompts())
        monkeypatch.setattr(pipe, "retrieve", lambda *args, **kwargs: evidence)
        monkeypatch.setattr(pipe, "_similarity", lambda query: None)
        return pipe.ask("Apakah panggilan akrab untuk Budi Santoso?"), model

    answer, model = ask(True)
    assert len(model.prompts) == 3 and second in model.prompts[2] and first not in model.prompts[2]
    assert not answer.abstained and answer.text.startswith("Pak Bud") and answer.citations[0].chunk_id == "d#2"
    answer, model = ask(False)
    assert answer.abstained and len(model.prompts) == 2


def test_a_declined_question_is_asked_again_from_the_next_best_excerpts(monkeypatch):
    """The passage that answers is often ranked just below the excerpts shown."""
    near = "Presiden Direktur Sinopec mengunjungi Chengdu pekan lalu untuk meninjau kilang."
    answer_text = EXCERPT
    hits = [Hit("a#1", near, {"source": "a", "title": "Kilang"}, 1.0),
            Hit("d#1", answer_text, {"source": "d", "title": "Minyak"}, 0.5)]

    class Retriever:
        embedder = None

        def search(self, query, lang, k=None, translation=""):
            return hits[:k]

    def replies(prompt: str, avoid: str) -> str:
        return "Sinopec Southwest Petroleum Biro [1]." if answer_text in prompt else "NOT FOUND"

    def ask(next_excerpts: bool):
        model = PromptedModel(replies)
        settings = load_settings(None, retrieval={"top_k": 1}, answer={"next_excerpts": next_excerpts})
        pipe = Pipeline(settings, OneStore(), Retriever(), model, Prompts())
        monkeypatch.setattr(pipe, "_similarity", lambda query: None)
        return pipe.ask(QUESTION), model

    answer, model = ask(True)
    assert answer_text not in model.prompts[0] and answer_text in model.prompts[1] and near not in model.prompts[1]
    assert not answer.abstained and "Sinopec Southwest Petroleum Biro" in answer.text
    assert [c.source for c in answer.citations] == ["d"] and [c.chunk_id for c in answer.contexts] == ["d#1"]
    answer, model = ask(False)
    assert answer.abstained and len(model.prompts) == 1


def test_next_excerpts_that_cannot_cover_the_question_cost_no_generation(monkeypatch):
    """An answer from them would be dropped by the coverage floor anyway: a decline stays quick."""
    hits = [Hit("a#1", "Presiden Direktur Sinopec mengunjungi Chengdu pekan lalu.", {"source": "a"}, 1.0),
            Hit("b#1", "Harga cabai di pasar naik lagi pekan ini.", {"source": "b"}, 0.5)]

    class Retriever:
        embedder = None

        def search(self, query, lang, k=None, translation=""):
            return hits[:k]

    model = PromptedModel(lambda prompt, avoid: "NOT FOUND")
    settings = load_settings(None, retrieval={"top_k": 1, "evidence_min_relative": 0.0}, answer={"next_excerpts": True})
    pipe = Pipeline(settings, OneStore(), Retriever(), model, Prompts())
    monkeypatch.setattr(pipe, "_similarity", lambda query: None)
    answer = pipe.ask(QUESTION)
    assert answer.abstained and len(model.prompts) == 1
    pipe.settings.answer.next_excerpts_coverage = 0.0  # any excerpt may now answer: the attempt is made
    pipe.ask(QUESTION)
    assert len(model.prompts) == 3
