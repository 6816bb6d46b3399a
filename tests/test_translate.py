"""English questions are searched through their Indonesian translation (rag.translate, Retriever.search)."""

from rag.prompting import Prompts
from rag.translate import translate_question


class ScriptedModel:
    """Replies with a fixed text and records what it was asked."""

    def __init__(self, reply: str):
        self.reply, self.calls = reply, []

    def complete(self, messages: list, max_tokens: int, stop: list[str]) -> str:
        self.calls.append((messages, max_tokens, stop))
        return self.reply


def test_translation_reuses_the_static_prefix_and_keeps_one_line():
    prompts = Prompts()
    model = ScriptedModel(' "Kapan KTT SCO di Tianjin berakhir?" ')
    assert translate_question(model, prompts, "When does the SCO summit in Tianjin end?", 48) == (
        "Kapan KTT SCO di Tianjin berakhir?")
    messages, max_tokens, stop = model.calls[0]
    assert messages[: len(prompts.prefix)] == prompts.prefix  # cached by llama.cpp: only the question is new
    assert "When does the SCO summit in Tianjin end?" in str(messages[-1].content)
    assert max_tokens == 48 and "\n" in stop


def test_a_runaway_or_empty_translation_is_dropped():
    prompts = Prompts()
    assert translate_question(ScriptedModel("x " * 200), prompts, "Who?", 48) == ""
    assert translate_question(ScriptedModel("  "), prompts, "Who came?", 48) == ""
    # a year the question does not give was made up, and would be taken for the answer
    question = "In what year did Balawan play in Trondheim?"
    made_up = ScriptedModel("Di tahun 2018, Balawan bermain di Trondheim.")
    assert translate_question(made_up, prompts, question, 48) == ""
    # a statement is an answer, not the question's translation
    answered = ScriptedModel("CGSC adalah singkatan dari Center for Global Science.")
    assert translate_question(answered, prompts, "What does CGSC stand for?", 48) == ""
    question = "What happened in Samarkand in 2022?"
    assert translate_question(ScriptedModel("Apa yang terjadi di Samarkand pada 2022?"), prompts, question, 48)


def test_retriever_searches_the_translation_by_words_too(tmp_settings, tmp_path):
    import shutil

    from rag.embeddings import get_embedder
    from rag.ingest import ingest
    from rag.retrieve import Retriever
    from rag.store import Store
    from tests.conftest import SEEDS

    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEEDS / "004_49bd237b7ccad95f.txt", folder)
    ingest(tmp_settings, [folder], progress=False)
    retriever = Retriever(Store(tmp_settings.data_path, get_embedder()), get_embedder(), tmp_settings.retrieval)
    question = "Who welcomed the defence minister at the airport?"
    english_only = retriever.search(question, "en", k=5)
    assert english_only and all(h.bm25_rank is None for h in english_only)  # no English word is in the article
    both = retriever.search(question, "en", k=5, translation="Siapa yang menyambut Menteri Pertahanan di bandara?")
    assert any(h.bm25_rank is not None for h in both)
    assert "bandara" in both[0].text.lower()


def test_the_translation_can_be_shown_beside_an_english_question():
    from rag.prompting import SourceText

    prompts = Prompts()
    sources = [SourceText(1, "Kompas.com", "2023-07-27", "Shoigu tiba di Pyongyang.")]
    shown = prompts.build("Who arrived?", sources, "en", translation="Siapa yang tiba?")
    assert "Question: Who arrived? (in Indonesian: Siapa yang tiba?)" in str(shown[-1].content)
    plain = prompts.build("Who arrived?", sources, "en")
    assert "in Indonesian" not in str(plain[-1].content)
    assert shown[:-1] == plain[:-1] == prompts.prefix  # the cached prefix does not change


def test_an_answer_that_copies_the_translation_note_loses_the_copy():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.retrieve import Hit

    excerpt = "Menteri Pertahanan Sergei Shoigu tiba di Pyongyang pada Rabu (27/7/2023)."
    evidence = [Evidence(1, Hit("d#1", excerpt, {"source": "d"}, 1.0), excerpt)]
    pipe = Pipeline(load_settings(None), None, None, None, Prompts())
    answer = pipe._finish("Who arrived in Pyongyang?", "en",
                          'Sergei Shoigu [1] [in Indonesian: "Menteri Pertahanan Sergei Shoigu"].', evidence)
    assert not answer.abstained and answer.text == "Sergei Shoigu [1]."
