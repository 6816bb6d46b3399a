"""The office check: a name answer must hold the office the question asks for, with its qualifier."""

from rag.roles import check_role

SUMMIT = "Presiden China Xi Jinping dan Presiden Rusia Vladimir Putin bertemu di Samarkand, Uzbekistan."
MINISTERS = "Menteri Luar Negeri Korea Selatan Ban Ki-Moon bertemu Menlu Belanda Bernard Bot di Seoul."


def test_a_holder_of_the_same_office_elsewhere_is_a_conflict():
    check = check_role("Vladimir Putin", "Who is the president of Uzbekistan?", [SUMMIT])
    assert check.conflict and check.replacement is None


def test_the_holder_with_the_asked_qualifier_replaces_the_wrong_one():
    check = check_role("Ban Ki-Moon", "Siapakah Menteri Luar Negeri (Menlu) Belanda saat ini?", [MINISTERS])
    assert check.conflict and check.replacement == "Bernard Bot"


def test_right_answers_pass():
    assert not check_role("Vladimir Putin", "Who is the president of Russia?", [SUMMIT]).conflict
    assert not check_role("Xi Jinping", "Siapa Presiden China?", [SUMMIT]).conflict
    assert not check_role("Bernard Bot", "Siapakah Menlu Belanda?", [MINISTERS]).conflict
    # Abbreviated qualifiers and forms of address are the same office.
    text = 'kata Kepala BKSDA Kalteng Yohanes Sudarto. Ada imbauan dari Bapak Wakil Presiden Jusuf Kalla.'
    assert not check_role("Yohanes Sudarto", "Siapa Kepala BKSDA Kalimantan Tengah?", [text]).conflict
    assert not check_role("Jusuf Kalla", "Siapa Wakil Presiden Indonesia?", [text]).conflict
    # An English office ("head") is not the source's "Kepala": a title word that only repeats the
    # question's qualifier ("Kalimantan") does not make it the office asked about.
    text = "Kepala Balai Konservasi Sumber Daya Alam (BKSDA) Kalimantan Tengah Yohanes Sudarto mengatakan."
    question = "Who is the head of the Natural Resources Conservation Agency (BKSDA) of Central Kalimantan?"
    assert not check_role("Yohanes Sudarto", question, [text], "en").conflict


def test_nothing_to_compare_means_no_conflict():
    # Not a who-question, no qualifier in the question, or the name stands without that title.
    assert not check_role("Rusia", "Dari negara mana Presiden Vladimir Putin?", [SUMMIT]).conflict
    assert not check_role("Vladimir Putin", "Siapa presiden yang datang?", [SUMMIT]).conflict
    assert not check_role("Vladimir Putin", "Who is the president of Uzbekistan?", ["Vladimir Putin tiba."]).conflict


def test_the_pipeline_withholds_or_replaces_a_holder_of_another_office():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    pipe = Pipeline(load_settings(), None, None, None, Prompts())
    evidence = [Evidence(i, Hit(f"c{i}", t, {"source": f"d{i}"}, 1.0), t) for i, t in enumerate([SUMMIT, MINISTERS], 1)]
    answer = pipe._finish("Who is the president of Uzbekistan?", "en", "Vladimir Putin [1].", evidence)
    assert answer.abstained and answer.citations == []
    answer = pipe._finish("Siapakah Menlu Belanda?", "id", "Ban Ki-Moon [2].", evidence)
    assert answer.text == "Bernard Bot [2]." and not answer.abstained


def test_an_english_question_is_read_through_the_indonesian_title_words():
    text = ("Presiden akan bertemu Presiden Palestina Mahmoud Abbas, Perdana Menteri (PM) Thailand Thaksin Sinawatra, "
            "PM Inggris Tony Blair dan Presiden Iran Mahmood Ahmadinejad.")
    # "Prime Minister" is "Perdana Menteri" / "PM", "Britain" is "Inggris"
    assert check_role("Thaksin Sinawatra", "Who is the Prime Minister of Britain?", [text], "en").replacement == (
        "Tony Blair")
    assert not check_role("Tony Blair", "Who is the Prime Minister of Britain?", [text], "en").conflict
    assert check_role("Mahmoud Abbas", "Who is the president of Iran?", [text], "en").replacement == (
        "Mahmood Ahmadinejad")


def test_the_deputy_is_not_the_office_asked_for():
    from rag.roles import check_role

    text = ("Kalangan DPRD Sumatera Utara menolak Wakil Gubernur Rudolf Pardede menggantikan Gubernur Tengku Rizal "
            "Nurdin yang meninggal akibat kecelakaan pesawat Mandala Airlines di Medan, Senin (5/9) lalu.")
    asked = "Siapa nama gubernur yang meninggal akibat kecelakaan pesawat Mandala Airlines?"
    assert check_role("Rudolf Pardede", asked, [text]).replacement == "Tengku Rizal Nurdin"
    assert check_role("Rudolf Pardede", "Which governor died in the Mandala Airlines crash?", [text],
                      "en").replacement == "Tengku Rizal Nurdin"
    # Asked for the deputy, or answered with the governor: nothing to mend.
    assert not check_role("Rudolf Pardede", "Siapa wakil gubernur Sumatera Utara?", [text]).conflict
    assert not check_role("Tengku Rizal Nurdin", asked, [text]).conflict
    # A deputy and no one titled with the office itself: withheld.
    alone = "Wakil Gubernur Rudolf Pardede meninjau lokasi kecelakaan."
    result = check_role("Rudolf Pardede", asked, [alone])
    assert result.conflict and result.replacement is None


def test_an_office_the_sources_never_name_cannot_be_answered():
    from rag.roles import asked_office_unnamed

    summit = ["Presiden China Xi Jinping dan Presiden Rusia Vladimir Putin akan bergabung untuk pertemuan "
              "Organisasi Kerjasama Shanghai (SCO) di Samarkand."]
    assert asked_office_unnamed("Who is the Secretary-General of the SCO?", summit) == "secretary"
    assert asked_office_unnamed("Siapa Sekretaris Jenderal SCO?", summit) == "sekretaris"
    # Named in any form, abbreviated either way: answerable.
    assert asked_office_unnamed("Who is the President of China?", summit) == ""
    assert asked_office_unnamed("Siapa Menteri Luar Negeri Belanda?", ["Menlu Belanda Bernard Bot tiba."]) == ""
    assert asked_office_unnamed("Siapa Menlu Belanda?", ["Menteri Luar Negeri Belanda Bernard Bot tiba."]) == ""
    # No office asked for: a candidate, a designer, a question that is not who-.
    assert asked_office_unnamed("Siapakah kandidat presiden Mesir dari Partai Uni Demokrasi?", summit) == ""
    assert asked_office_unnamed("Who were the chief designers of Project 921?", summit) == ""
    assert asked_office_unnamed("Where is the Secretary-General of the SCO?", summit) == ""


def test_office_forms_give_the_sources_words_for_an_english_office():
    from rag.places import office_forms

    forms = office_forms("Who is the spokesperson of the Russian presidency?")
    assert set(forms.split()) == {"jubir", "juru", "bicara"}
    assert office_forms("Where did Putin go?") == ""


def test_a_person_titled_with_another_single_holder_office_is_not_the_one_asked():
    ev = ["Presiden China Xi Jinping akan melakukan kunjungan resmi ke Moskow untuk bertemu Presiden Rusia Putin."]
    assert check_role("Xi Jinping", "Who is the foreign minister of China?", ev, "en").conflict
    assert check_role("Xi Jinping", "Siapa Menteri Luar Negeri China?", ev, "id").conflict
    assert not check_role("Xi Jinping", "Who is the president of China?", ev, "en").conflict
    # A head of anything is no single-holder office: a president may lead a delegation.
    assert not check_role("Xi Jinping", "Siapa ketua delegasi China?", ev, "id").conflict
