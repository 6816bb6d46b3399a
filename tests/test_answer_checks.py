"""The code-side answer checks: question kinds, grounding, coverage, date localisation, language."""

from rag.answer_checks import expected_kind, grounding, has_kind, question_coverage
from rag.lang import detect_language
from rag.text import localize_dates, new_terms

EVIDENCE = ("Delegasi militer Rusia dipimpin Menteri Pertahanan Sergei Shoigu tiba di Korea Utara. "
            "Perayaan Victory Day ke-70 akan digelar pada Kamis (27/7/2023) di Pyongyang.")


def test_question_kinds():
    assert expected_kind("Kapan KTT SCO berlangsung?") == "time"
    assert expected_kind("Berapa kapal selam AS di Korea Selatan?") == "number"
    assert expected_kind("Who led the delegation?") == "name"
    assert expected_kind("Di kota mana parade digelar?") == "place"
    assert expected_kind("Dimanakah lokasi Bandung?") == expected_kind("Di negara manakah Karlsruhe?") == "place"
    assert expected_kind("Dari manakah ia berasal?") == expected_kind("Ke manakah tujuan pesawat itu?") == "place"
    assert expected_kind("Mengapa Rusia datang?") == ""
    # The first question word decides; a later "when" joins a clause.
    assert expected_kind("Where was the President when he chaired the meeting?") == "place"
    assert expected_kind("Tanggal berapa Festival dibuka?") == "time"
    assert expected_kind("What is the value of trade between Russia and China?") == "number"
    assert has_kind("pada 27 Juli 2023", "time") and not has_kind("di Pyongyang", "time")
    # a year, a dateline or an hour is a time; a bare count or a duration is not
    assert all(has_kind(a, "time") for a in ("1945", "Jumat (26/8)", "pukul 20.15", "akhir 2004", "1990-an"))
    assert not any(has_kind(a, "time") for a in ("60", "26 menit dan 17,53 detik", "143 orang"))
    assert has_kind("dua kapal", "number") and not has_kind("kapal selam", "number")


def test_grounding_counts_only_what_the_answer_adds():
    q = "Siapa yang memimpin delegasi militer Rusia?"
    assert grounding("Menteri Pertahanan Sergei Shoigu", q, EVIDENCE, "id") == (1.0, True)
    # invented person: not in the evidence
    assert grounding("Jenderal Valery Gerasimov", q, EVIDENCE, "id")[0] == 0.0
    # invented number
    assert grounding("Pada 12 Agustus", "Kapan perayaan?", EVIDENCE, "id")[1] is False
    # a date written the other language's way is still grounded
    assert grounding("On 27 July 2023", "When is the celebration?", EVIDENCE, "en") == (1.0, True)
    # a dateline after a credit ("(AFP/JP, 18/10)") dates it too
    quoted = "seperti dikutip Harian Rakyat (AFP/JP, 18/10), misi itu berhasil."
    assert grounding("18 October", "On what date was he quoted?", quoted, "en")[1] is True
    assert grounding("18 November", "On what date was he quoted?", quoted, "en")[1] is False
    # only repeating the question's own name answers nothing
    q2 = "Siapa pejabat Korea Utara yang menyambut Shoigu?"
    assert grounding("Menteri Pertahanan Sergei Shoigu", q2, EVIDENCE, "id")[0] == 0.0
    fresh, old = new_terms("Menteri Pertahanan Sergei Shoigu", q2)
    assert not fresh and "sergei" in old


def test_question_coverage():
    assert question_coverage("Kapan perayaan Victory Day digelar di Pyongyang?", "id", EVIDENCE) == 1.0
    assert question_coverage("Berapa harga tiket pesawat ke Tianjin?", "id", EVIDENCE) < 0.5
    assert question_coverage("When is Victory Day in Pyongyang?", "en", EVIDENCE) == 1.0


def test_an_english_name_is_found_by_the_part_that_survives_translation():
    text = "Pesta Budaya Papua berlangsung 22-27 Agustus di Jayapura."
    # "Papua Cultural Festival" is one name, found by "Papua"; word by word it was a third.
    assert question_coverage("When is this year's Papua Cultural Festival held?", "en", text) == 1.0
    assert question_coverage("When is the Jakarta Marathon held?", "en", text) == 0.0
    assert question_coverage("When did the Papua Cultural Festival meet the Jakarta Marathon?", "en", text) == 0.5


def test_the_asked_noun_need_not_be_in_the_sources():
    ev = "Pelaihari, Kompas - Unjuk rasa di Kabupaten Tanah Laut, Kalimantan Selatan, di Pelaihari berakhir rusuh."
    assert question_coverage("Di provinsi manakah lokasi kota Pelaihari?", "id", ev) == 0.5
    # it still counts where the sources write it (2 of hewan, bernama, latin, caretta; not 1 of 3)
    assert question_coverage("Hewan apakah yang bernama latin Caretta caretta?", "id",
                             "Hewan itu, penyu (Caretta caretta), dilindungi.") == 0.5


def test_localize_dates_and_language():
    assert localize_dates("pada Kamis (27/7/2023) di Pyongyang", "en") == "pada Kamis 27 July 2023 di Pyongyang"
    assert localize_dates("on 9 May", "id") == "on 9 Mei"
    assert detect_language("Who led the Russian delegation?") == "en"
    assert detect_language("Siapa yang memimpin delegasi Rusia?") == "id"


def test_dateline_dates_are_shown_to_the_model_with_the_month_named():
    from rag.text import spell_out_dates

    assert spell_out_dates("kata Budi, Rabu (5/10), di Jakarta") == "kata Budi, Rabu (5 Oktober), di Jakarta"
    assert spell_out_dates("pada Kamis (27/7/2023) di Pyongyang") == "pada Kamis (27 Juli 2023) di Pyongyang"
    assert spell_out_dates("Kamis ( 8/ 9) pukul 10.00") == "Kamis (8 September) pukul 10.00"
    # Not dates: a fraction outside brackets, an impossible month.
    assert spell_out_dates("3/4 bagian (31/13)") == "3/4 bagian (31/13)"


def test_language_is_decided_by_the_question_words_not_the_names_in_it():
    # Foreign names outweighed the few Indonesian words of these questions.
    assert detect_language("Di negara manakah, lokasi Universite des Sciences et Techniques du Languedoc") == "id"
    assert detect_language("Siapa pengarang buku The Clash of Civilizations and The Remaking of World Order?") == "id"
    assert detect_language("Music Director (MD) Radio manakah Adhen Dajumi?") == "id"
    assert detect_language("Who wrote Pemimpin Tertinggi Korea Utara Kim Jong Un?") == "en"
    assert detect_language("Siapa Putin?") == "id"


def test_repair_span_takes_the_name_from_the_clause_that_matches_the_question():
    from rag.repairs import repair_span

    ev = ["KTT SCO akan berlangsung di Tianjin pada 31 Agustus, sedangkan peringatan 80 tahun berakhirnya "
          "Perang Dunia II akan dilaksanakan di Beijing pada 3 September."]
    q = "Di kota mana peringatan 80 tahun berakhirnya Perang Dunia II digelar?"
    assert repair_span("Tianjin", q, "id", ev) == "Beijing"
    assert repair_span("Beijing", q, "id", ev) is None  # already from the right clause
    # A when-question takes the date of the matching clause, never a name.
    assert repair_span("Tianjin", "Kapan KTT SCO berlangsung?", "id", ev) == "31 Agustus"
    # two candidate names in the best clause: no guess
    ev2 = ["Delegasi China dipimpin Li Hongzhong dan Zhang Wei."]
    assert repair_span("Sergei Shoigu", "Siapa yang memimpin delegasi China?", "id", ev2) is None


def test_repair_span_takes_the_number_from_the_clause_that_matches_the_question():
    from rag.repairs import repair_span

    ev = ["Pabrik itu memproduksi 927.000 ton per tahun; penghasilan devisa pabrik aromatik itu "
          "mencapai 600 juta dollar AS per tahun."]
    q = "Berapa penghasilan devisa pabrik aromatik per tahun?"
    assert repair_span("927.000 ton per tahun", q, "id", ev) == "600 juta dollar AS"
    assert repair_span("600 juta dollar AS", q, "id", ev) is None  # already from the right clause
    # two numbers in the best clause: no guess
    ev2 = ["Penghasilan devisa pabrik aromatik 600 juta dollar AS dan 20 juta euro; produksinya 927.000 ton."]
    assert repair_span("927.000 ton", q, "id", ev2) is None
    # a date is not a count: "19 Agustus" is not cut to "19"
    ev3 = ["Terakhir, Than Shwe terlihat pada 19 Agustus lalu, saat ia menerima Ali Alatas."]
    assert repair_span("19 Agustus", "Berapa kali Than Shwe terlihat saat menerima Ali Alatas?", "id", ev3) is None
    assert expected_kind("Pada tanggal berapakah Than Shwe terlihat?") == "time"


def test_a_name_after_the_questions_title_is_new():
    # The model repeats the asked title and adds the name: the name is the answer, not a restatement.
    q = "Siapakah Kepala Pertamina Unit Pemasaran IV Depo BBM Maos Cilacap?"
    fresh, _ = new_terms("Kepala Pertamina Unit Pemasaran IV Depo BBM Maos Cilacap Budhi Darmawan", q)
    assert fresh == {"budhi", "darmawan"}
    # the question's own person, with a title added, still adds nothing
    fresh, _ = new_terms("Jenderal Sonthi Boonyaratglin", "Lulusan akademi mana Jenderal Sonthi Boonyaratglin?")
    assert not fresh


def test_drop_invented_years_keeps_what_the_sources_date():
    from rag.repairs import drop_invented_years

    ev = "Pesawat Air France tergelincir di Toronto, Selasa (2/8). Bandara dibuka lagi 5 Agustus 2005."
    assert drop_invented_years("2 Agustus 2018 [1].", ev) == "2 Agustus [1]."
    assert drop_invented_years("5 Agustus 2005", ev) == "5 Agustus 2005"  # the year is in the sources
    assert drop_invented_years("On 2 August 2021", ev) == "On 2 August"
    assert drop_invented_years("pada tahun 2018", ev) == "pada tahun 2018"  # not a day-month date: left to the checks


def test_snap_to_evidence_fixes_a_miscopied_name_only():
    from rag.repairs import snap_to_evidence

    ev = ["Tujuan wisata kaum ekspatriat di Banten adalah Gunung Krakatau dan pantai Anyer."]
    assert snap_to_evidence("Kratatau", ev) == "Krakatau"
    assert snap_to_evidence("Krakatau", ev) is None  # already the evidence's words
    assert snap_to_evidence("Gunung Bromo", ev) is None  # nothing close: left to the grounding check
    assert snap_to_evidence("15 September 2022", ["pada 15-16 September 2022"]) is None  # dates are not snapped


def test_evidence_leaves_out_a_chunk_that_barely_matches():
    from rag.evidence import select_evidence
    from rag.retrieve import Hit

    hits = [Hit("a", "Menteri Pertahanan Sergei Shoigu tiba di Pyongyang pada Selasa.", {}, 1.0),
            Hit("b", "Harga cabai di pasar naik lagi pekan ini.", {}, 0.5)]
    q = "Kapan Sergei Shoigu tiba di Pyongyang?"
    count = lambda t: len(t) // 4  # noqa: E731
    assert [e.hit.chunk_id for e in select_evidence(q, hits, 200, count)] == ["a", "b"]
    assert [e.hit.chunk_id for e in select_evidence(q, hits, 200, count, min_relative=0.5)] == ["a"]


def test_a_day_month_date_is_written_as_the_source_wrote_it():
    from rag.repairs import date_as_written

    ev = "Mubarak dinyatakan menang oleh Ketua KPU, Jumat (9/9) malam waktu Cairo."
    assert date_as_written("9 September [1].", ev) == "Jumat (9/9) [1]."
    # a year from elsewhere in the text is not what the source says of this date
    assert date_as_written("9 September 2005", ev) == "Jumat (9/9)"
    assert date_as_written("9 September 2005", ev + " Hasil pemilu 9 September 2005 diumumkan.") == "9 September 2005"
    assert date_as_written("9 September 2005", "Pemilu Jumat (9/9/2005) dan (9/9) malam.") == "9 September 2005"
    assert date_as_written("10 September", ev) == "10 September"  # not the source's date
    # the weekday and brackets the model copied from an excerpt that named the month are not doubled
    assert date_as_written("Jumat (9 September) [1].", ev) == "Jumat (9/9) [1]."
    assert date_as_written("Ketua KPU, Jumat (9 September) malam", ev) == "Ketua KPU, Jumat (9/9) malam"
    # A month misread from the dateline ("9 Desember" for "(9/9)") gets the source's date back, unless the
    # sources name such a date in words or hold two datelines of that day.
    assert date_as_written("9 Desember 2005 [1].", ev) == "Jumat (9/9) [1]."
    assert date_as_written("9 Desember", ev + " Pada 9 Desember 2004 ia kalah.") == "9 Desember"
    assert date_as_written("9 Desember", ev + " Lalu Sabtu (9/7) ia kembali.") == "9 Desember"
    # some datelines have a space after the slash: "Kamis (8/ 9)"
    spaced = "Pada Grand Prix Asia 2005, Kamis (8/ 9), tim putra meraih perunggu."
    assert date_as_written("8 September 2005", spaced) == "Kamis (8/ 9)"
    assert date_as_written("8 Oktober 2005", spaced) == "Kamis (8/ 9)"
    assert grounding("8 September", "Kapan tim putra meraih perunggu?", spaced, "id") == (1.0, True)
    # "(9/9)" dates the answer for the grounding check too
    assert grounding("9 September", "Kapan Mubarak dinyatakan menang?", ev, "id") == (1.0, True)


def test_a_year_must_come_from_the_cited_excerpt():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    pipe = Pipeline(load_settings(), None, None, None, Prompts())
    texts = ["KTT SCO di Tianjin berlangsung 31 Agustus hingga 1 September.",
             "KTT SCO 2022 digelar di Samarkand pada 15-16 September 2022."]
    evidence = [Evidence(i, Hit(f"c{i}", t, {"source": f"d{i}", "date": "2025-08-27"}, 1.0), t)
                for i, t in enumerate(texts, 1)]
    answer = pipe._finish("Kapan KTT SCO di Tianjin berakhir?", "id", "1 September 2022 [1].", evidence)
    assert answer.text == "1 September [1]."  # 2022 belongs to the other excerpt's summit
    answer = pipe._finish("Kapan KTT SCO di Tianjin berakhir?", "id", "1 September 2025 [1].", evidence)
    assert answer.text == "1 September 2025 [1]."  # the cited article's own year


def test_an_answer_keeps_the_models_own_reply_beside_the_repaired_one():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    pipe = Pipeline(load_settings(), None, None, None, Prompts())
    text = "Kasus diare terjadi di Kabupaten Serang, Provinsi Banten, Senin (3/10)."
    evidence = [Evidence(1, Hit("c1", text, {"source": "d1"}, 1.0), text)]
    answer = pipe._finish("Di provinsi manakah kasus diare terjadi?", "id", "Banten [1].", evidence)
    assert answer.text == "Provinsi Banten [1]."
    # What the model wrote is kept, so a replay of a saved run applies the repairs of the code under test.
    assert answer.generated == "Banten [1]." and answer.raw != answer.generated


def test_widen_to_source_restores_qualifiers_and_whole_names():
    from rag.repairs import widen_to_source

    text = ("Manado, Kompas - Panglima Komando Armada Kawasan Timur Laksamana Muda TNI Y Didik Heru Purnomo "
            "mengakui pihaknya menembak kapal. Populasi orangutan kalimantan masih sekitar 50.000 ekor, "
            "dengan anggaran Rp 3,7 miliar dan panen rata-rata 16 ton per hektar.")
    question = "Siapa Panglima Komando Armada Kawasan Timur?"
    assert widen_to_source("Heru Purnomo", question, "id", [text]) == "Laksamana Muda TNI Y Didik Heru Purnomo"
    assert widen_to_source("Heru Purnomo", question.replace("Siapa", "Who is"), "en", [text]) is None
    assert widen_to_source("50.000 ekor", "Berapa populasi orangutan?", "id", [text]) == "sekitar 50.000 ekor"
    assert widen_to_source("3,7 miliar", "Berapa anggarannya?", "id", [text]) == "Rp 3,7 miliar"
    assert widen_to_source("16 ton per hektar", "Berapa panennya?", "id", [text]) == "rata-rata 16 ton per hektar"
    # Nothing to add, an English number, or words the source does not hold as they are: no change.
    assert widen_to_source("Laksamana Muda TNI Y Didik Heru Purnomo", question, "id", [text]) is None
    assert widen_to_source("50.000 ekor", "How many orangutans?", "en", [text]) is None
    assert widen_to_source("50.000 orangutan", "Berapa populasi orangutan?", "id", [text]) is None


def test_an_answer_with_the_sources_words_in_another_order_takes_their_order():
    from rag.repairs import order_as_written

    ev = ["Universitas pertama di dunia didirikan pada tahun 971 di Kairo, Mesir."]
    assert order_as_written("971 tahun", ev) == "tahun 971"
    assert order_as_written("Mesir Kairo", ev) == "Kairo, Mesir"
    # Already as written, one word, or words the source does not hold together: no change.
    assert order_as_written("tahun 971", ev) is None
    assert order_as_written("971", ev) is None
    assert order_as_written("Mesir pertama", ev) is None


def test_a_number_the_sources_write_in_words_is_written_so():
    from rag.repairs import numbers_as_written

    ev = "Celine Dion menyumbang satu juta dollar AS. Dua dermaga dibangun, 4 kapal datang pada Rabu (5/10)."
    assert numbers_as_written("1 juta dollar AS [1].", ev) == "satu juta dollar AS [1]."
    assert numbers_as_written("sekitar 2 dermaga", ev) == "sekitar dua dermaga"
    # Written in digits too, not in words before that word, a longer number, a date: as it was.
    assert numbers_as_written("4 kapal", ev) == "4 kapal"
    assert numbers_as_written("1 kapal", ev) == "1 kapal"
    assert numbers_as_written("Rp 1,5 juta", ev) == "Rp 1,5 juta"
    assert numbers_as_written("Rabu (5/10) [2]", ev) == "Rabu (5/10) [2]"


def test_words_left_out_of_the_middle_of_an_answer_are_put_back():
    from rag.repairs import fill_dropped_words

    ev = ["Benin harus memenuhi 130 macam persyaratan. Nelayan mogok di Pelabuhan Benoa, Denpasar, Bali.",
          "KTT berlangsung 15-16 September 2022. Ia turun di nomor yang 7."]
    assert fill_dropped_words("130 persyaratan", ev) == "130 macam persyaratan"
    assert fill_dropped_words("Pelabuhan Bali", ev) == "Pelabuhan Benoa, Denpasar, Bali"
    # As written already, a number put in ("15-16"), a joining word ("yang"), or too far apart: no change.
    assert fill_dropped_words("130 macam", ev) is None
    assert fill_dropped_words("15 September 2022", ev) is None
    assert fill_dropped_words("nomor 7", ev) is None
    assert fill_dropped_words("Benin persyaratan", ev) is None


def test_initials_get_the_name_the_source_spells_out_before_them():
    from rag.repairs import spelled_out

    ev = ["Bersama kelompoknya, Batuan Ethnic Fusion (BEF), ia tampil.",
          "Badan Pemeriksa Keuangan (BPK) dan Komisi untuk Orang Hilang (Kontras) hadir."]
    assert spelled_out("BEF", ev) == "Batuan Ethnic Fusion (BEF)"
    assert spelled_out("BPK.", ev) == "Badan Pemeriksa Keuangan (BPK)"
    assert spelled_out("BP3 Jateng", ["Balai Pelestarian Peninggalan Purbakala (BP3) Jateng meneliti."]) == \
        "Balai Pelestarian Peninggalan Purbakala (BP3) Jateng"
    # Not initials, initials the source does not spell out, or a name whose letters differ: no change.
    assert spelled_out("Kontras", ev) is None
    assert spelled_out("KPK", ev) is None
    assert spelled_out("BE", ["Batuan Ethnic Fusion (BE) tampil."]) is None


def test_widen_to_source_adds_the_asked_noun_and_the_when_preposition():
    from rag.answer_checks import asked_noun
    from rag.repairs import widen_to_source

    text = ("Serang, Kompas - Kabupaten Serang di Provinsi Banten menggelar festival musik jazz. "
            "Festival itu pertama kali digelar pada 1977 oleh Pemerintah Provinsi Banten.")
    assert asked_noun("Di provinsi manakah letak Kabupaten Serang?") == "provinsi"
    assert asked_noun("Manakah provinsi yang menggelar festival?") == "provinsi"
    assert asked_noun("Apakah nama pelabuhan di Cilacap?") == "pelabuhan"
    assert asked_noun("Apa nama yang diberikan?") == asked_noun("Siapa dia?") == ""
    assert asked_noun("Diprioritaskan untuk apakah dana itu?") == asked_noun("Berfungsi sebagai apakah?") == ""
    assert widen_to_source("Banten", "Di provinsi manakah letak Kabupaten Serang?", "id", [text]) == "Provinsi Banten"
    assert widen_to_source("jazz", "Musik apa yang dimainkan di festival itu?", "id", [text]) == "musik jazz"
    # A bracket opened in the answer is closed as in the source.
    assert widen_to_source("Giant African Snail (GAS)", "Apa nama hama itu?", "id",
                           ["Serangan hama Giant African Snail (GAS) meluas."]) == "hama Giant African Snail (GAS)"
    assert widen_to_source("1977", "Kapan festival itu pertama kali digelar?", "id", [text]) == "pada 1977"
    # An answer that only describes what was asked gets the name the source puts before that description.
    text2 = "Lewat telepon, Hezb-ul Mujahedeen, kelompok militan Kashmir yang terbesar, menyatakan bertanggung jawab."
    question = "Kelompok apakah yang menyatakan bertanggung jawab?"
    assert widen_to_source("Kelompok militan Kashmir", question, "id", [text2]) == \
        "Hezb-ul Mujahedeen, kelompok militan Kashmir"
    assert widen_to_source("Kelompok militan", question, "id", ["Namun, kelompok militan menolak."]) is None
    # A where-question's answer gets the more precise place the source names before it.
    text3 = "Nelayan mogok di Pelabuhan Benoa, Denpasar, Bali. Kata Kepala Dinas Perikanan Bali, Denpasar sepi."
    assert widen_to_source("Denpasar, Bali", "Di manakah nelayan mogok?", "id", [text3]) == \
        "Pelabuhan Benoa, Denpasar, Bali"
    assert widen_to_source("Denpasar", "Di manakah sepi?", "id", [text3.split(". ")[1]]) is None
    assert widen_to_source("Denpasar, Bali", "Siapa yang mogok?", "id", [text3]) is None
    # Another name the source gives in brackets comes along; figures and long notes do not.
    text4 = "Lumut marga Marchantia (lumut hati) dipakai. Kawah Darajat (145 MW) dibangun."
    assert widen_to_source("marga Marchantia", "Lumut marga apakah itu?", "id", [text4]) == \
        "marga Marchantia (lumut hati)"
    assert widen_to_source("Kawah Darajat", "Di manakah lokasinya?", "id", [text4]) is None
    assert widen_to_source("Marchantia", "Which genus?", "en", [text4]) is None
    # Not a when-question, another noun, or an English answer: as it was.
    assert widen_to_source("1977", "Berapa angka tahunnya?", "id", [text]) is None
    assert widen_to_source("Banten", "Di provinsi manakah festival itu?", "id", ["festival di daerah Banten"]) is None
    assert widen_to_source("Banten", "In which province is Serang?", "en", [text]) is None


def test_widen_to_source_stops_at_the_question_words_and_punctuation():
    from rag.repairs import widen_to_source

    text = "Kasus diare di Kabupaten Serang, Provinsi Banten, Senin (3/10)."
    assert widen_to_source("Banten", "Di mana kasus diare terjadi?", "id", [text]) == \
        "Kabupaten Serang, Provinsi Banten"
    # The question's own words end a name; only the noun it asks about is put back in front.
    assert widen_to_source("Banten", "Di provinsi mana kasus diare terjadi?", "id", [text]) == "Provinsi Banten"
    assert widen_to_source("Serang", "Kasus diare di provinsi mana, Serang?", "id", [text]) is None
    # A sentence's first word is not taken for part of a name; an answer starting with the asked word is whole.
    text = "Pertemuan itu dihadiri 20 negara. Delegasi Iran datang terlambat. Kampus Universitas Airlangga"
    assert widen_to_source("Iran", "Negara mana yang datang terlambat?", "id", [text]) is None
    assert widen_to_source("Universitas Airlangga", "Universitas apa?", "id", [text]) is None


def test_a_variant_of_the_questions_own_name_is_not_news():
    question = "Which news agency did iNews cite for Russia's statement about Shoigu's visit?"
    restated = "iNews cited the Russian news agency for Russia's statement about Shoigu's visit."
    assert grounding(restated, question, "Kantor berita Rusia melaporkan kunjungan Shoigu.", "en")[0] == 0.0
    answered = "Reuters."
    assert grounding(answered, question, "Shoigu tiba, lapor Reuters.", "en") == (1.0, True)


def test_a_question_about_who_wrote_a_story_gets_the_byline_in_the_source_header():
    from rag.answer_checks import asks_byline
    from rag.prompting import Prompts, SourceText

    assert asks_byline("Siapa editor berita iNews tentang Shoigu?")
    assert asks_byline("Who wrote the Intisari article?")
    assert not asks_byline("Siapa yang memimpin delegasi Rusia?")
    prompts = Prompts()
    shown = prompts.render_sources([SourceText(1, "iNews.id", "2023-07-26", "Shoigu tiba.", "Editor: Fida")])
    assert shown == "[1] (iNews.id, 2023-07-26, Editor: Fida) Shoigu tiba."
    assert prompts.render_sources([SourceText(1, "iNews.id", "2023-07-26", "Shoigu tiba.")]) == \
        "[1] (iNews.id, 2023-07-26) Shoigu tiba."


def test_english_names_meet_their_indonesian_forms():
    from rag.places import english_names

    assert set(english_names("Jubir Kementerian Luar Negeri AS berharap Korut kembali berunding.").split()) >= {
        "north", "korea", "us", "state", "department"}
    assert english_names("Presiden Joko Widodo tiba di Bogor.") == ""
    question = "Who is the US State Department spokesperson who hoped North Korea would drop its nuclear project?"
    text = "Juru bicara Kementerian Luar Negeri AS Vedant Patel berharap Korut tidak meneruskan proyek nuklir."
    assert question_coverage(question, "en", text) == 1.0
    assert question_coverage(question, "en", "Presiden China Xi Jinping tiba di Moskow.") == 0.0
    assert grounding("The Netherlands.", "Which country did Bot represent?", "Menlu Belanda Bernard Bot", "en") == (
        1.0, True)


def test_an_indonesian_answer_gets_the_sources_form_of_an_english_place_name():
    from rag.repairs import names_in_indonesian

    assert names_in_indonesian("Japan [1].", "Perusahaan Jepang seperti Toyota dan Honda.") == "Jepang [1]."
    assert names_in_indonesian("North Korea [2].", "Delegasi tiba di Korea Utara.") == "Korea Utara [2]."
    # Only a form the excerpt uses replaces it.
    assert names_in_indonesian("Japan [1].", "Perusahaan Korea seperti Samsung.") == "Japan [1]."


def test_an_english_answer_gets_english_place_names():
    from rag.repairs import names_in_english

    assert names_in_english("Korea Utara and Russian [1].") == "North Korea and Russian [1]."
    assert names_in_english("The Gedung Putih spokesperson [2].") == "The White House spokesperson [2]."
    assert names_in_english("Putin returned to Rusia [1].") == "Putin returned to Russia [1]."  # the country
    assert names_in_english("In Jawa Barat [1].") == "In Jawa Barat [1]."  # part of a longer name


def test_a_name_glued_to_the_questions_name_is_new():
    # The model glued the asked person to the answer; the sources never write the two together.
    q = "Di perusahaan manakah Kusnadi Sugiharto memegang posisi General Manager Procurement?"
    ev = "Kusnadi Sugiharto, General Manager Procurement PT International Suzuki Indonesia, mengatakan itu."
    assert grounding("PT International Suzuki Indonesia Kusnadi Sugiharto.", q, ev, "id") == (1.0, True)
    assert grounding("PT Astra Motor Kusnadi Sugiharto.", q, ev, "id")[0] == 0.0  # not the sources' name
    # A name that opens with the noun asked for is the answer, though it ends with the question's place.
    q = "Apa nama bandara di Yogyakarta?"
    ev = "Bandara Adisutjipto Yogyakarta sudah direncanakan untuk diperpanjang landasan pacunya."
    assert grounding("Bandara Adisutjipto Yogyakarta.", q, ev, "id") == (1.0, True)
    assert grounding("Menteri Pertahanan Sergei Shoigu", "Siapa pejabat yang menyambut Shoigu?",
                     "Menteri Pertahanan Sergei Shoigu tiba di Pyongyang.", "id")[0] == 0.0
    # An English answer capitalises the question's own words: a made-up title of "the war" adds nothing.
    q = "What does Russia call the war whose 80th victory anniversary Xi Jinping attended in Moscow?"
    ev = "Xi Jinping menghadiri peringatan 80 tahun Kemenangan Perang Patriotik Raya di Moskow, kata Kemlu China."
    made_up = ('Russia calls the war whose 80th victory anniversary Xi Jinping attended in Moscow the "War of the '
               '80th Anniversary of the Victory of the Chinese People\'s War of Liberation".')
    assert grounding(made_up, q, ev, "en")[0] < 0.5
    # A lower-case word of the question is not its name: "nasional" does not make the answer old.
    q = "siapakah penyelenggara pameran produk berskala nasional di gedung Smesco?"
    ev = "Pameran produk berskala nasional itu diselenggarakan Dewan Kerajinan Nasional di Gedung Smesco."
    assert grounding("Dewan Kerajinan Nasional.", q, ev, "id") == (1.0, True)


def test_a_place_the_question_names_does_not_make_the_name_before_it_old():
    fresh, _ = new_terms("PT Mutiara Indopearl Pulau Makassar", "Perusahaan apa yang berlokasi di Pulau Makassar?")
    assert "indopearl" in fresh
    fresh, _ = new_terms("Dinas Kehutanan Provinsi Riau", "Data dari dinas apakah tentang hutan Riau?")
    assert "kehutanan" in fresh
    # A title before a name the question already asks is still the question's own name.
    fresh, _ = new_terms("Menteri Pertahanan Sergei Shoigu", "Kapan Shoigu tiba?")
    assert not fresh


def test_people_are_counted_with_the_sources_noun():
    from rag.repairs import count_noun_as_written

    assert count_noun_as_written("143 orang [2].", "pembantaian terhadap 143 warga Syiah") == "143 warga [2]."
    answer = count_noun_as_written("131 orang warga Muslim [1].", "ke-131 warga Muslim Thailand")
    assert answer == "131 warga Muslim [1]."
    # The source's own "orang", or two different nouns after that number: left alone.
    assert count_noun_as_written("11 orang [1].", "11 orang tewas dan 11 warga hilang") == "11 orang [1]."
    assert count_noun_as_written("5 orang [1].", "5 warga dan 5 polisi") == "5 orang [1]."


def test_an_answer_to_where_in_a_place_that_names_only_its_container_is_withheld():
    from rag.answer_checks import names_container

    ev = "Peskov tidak menjawab soal pertemuan lanjutan Trump dan Putin pasca pertemuan di Alaska, Amerika Serikat."
    q = "Di kota mana di Alaska Trump dan Putin bertemu?"
    assert names_container("Di Alaska, Amerika Serikat [1].", q, ev)
    assert not names_container("Anchorage [1].", q, ev)  # a place inside (grounding judges it)
    assert names_container("In Alaska, United States.", "Which city in Alaska did they meet in?", ev)
    # asking what contains the place is another question
    assert not names_container("Amerika Serikat [1].", "Di negara mana Alaska berada?", ev)


def test_acronyms_of_multi_word_names():
    from rag.text import acronyms

    assert "sco" in acronyms("Kerja Sama Shanghai (Shanghai Cooperation Organisation/SCO) serta")
    assert {"bps", "ktt"} <= acronyms("Data Badan Pusat Statistik. Konferensi Tingkat Tinggi di Tianjin")
    assert "kpk" in acronyms("Komisi Pemberantasan Korupsi")
    assert acronyms("SCO didirikan pada 2001 oleh China dan Rusia.") == set()  # no run of capitalised words
    assert not {"ss", "sc"} & acronyms("Shanghai Cooperation")  # two letters match too much by chance


def test_evidence_matches_a_body_named_by_its_initials():
    from rag.evidence import select_evidence
    from rag.retrieve import Hit

    hits = [Hit("a", "Putin akan hadir di Tianjin bulan depan.", {}, 1.0),
            Hit("b", "SCO didirikan pada tahun 2001 sebagai organisasi keamanan.", {}, 0.5)]
    count = lambda t: len(t) // 4  # noqa: E731
    # Without the acronym, the second chunk shares only "tahun" and is left out as barely matching.
    shown = select_evidence("Tahun berapa Shanghai Cooperation Organisation didirikan Putin?", hits, 200, count,
                            min_relative=0.9)
    assert [e.hit.chunk_id for e in shown] == ["b"]


def test_the_coverage_check_reads_an_excerpt_with_its_story_s_first_sentence():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    excerpt = "Parade di Surabaya itu dikenal sebagai Festival Cahaya."
    question = "What is the Surabaya lantern parade for Sukarno's birthday in June also known as?"
    lede = "Warga Surabaya menggelar parade lampion untuk memperingati hari lahir Sukarno pada 6 Juni."
    pipe = Pipeline(load_settings(None), None, None, None, Prompts())

    def answer(meta: dict):
        return pipe._finish(question, "en", "Festival Cahaya [1].",
                            [Evidence(1, Hit("d#1", excerpt, {"source": "d", **meta}, 1.0), excerpt)])

    alone = answer({})
    assert alone.abstained and alone.reason.startswith("question not covered")
    in_story = answer({"lede": lede})
    assert not in_story.abstained and "Festival Cahaya" in in_story.text


def test_a_reply_that_opens_with_small_talk_is_withheld():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    excerpt = "Menteri Pertahanan Sergei Shoigu tiba di Pyongyang pada Rabu (27/7/2023)."
    evidence = [Evidence(1, Hit("d#1", excerpt, {"source": "d"}, 1.0), excerpt)]
    pipe = Pipeline(load_settings(None), None, None, None, Prompts())
    question = "Kapan Shoigu meninggalkan Pyongyang?"
    chatty = pipe._finish(question, "id", "Tentu saja, Shoigu meninggalkan Pyongyang pada 27 Juli 2023 [1].", evidence)
    assert chatty.abstained and chatty.reason.startswith("model: small talk")
    plain = pipe._finish("Kapan Shoigu tiba di Pyongyang?", "id", "27 Juli 2023 [1].", evidence)
    assert not plain.abstained
    stop = "Shoigu singgah di Surabaya sebelum terbang ke Pyongyang."
    surabaya = pipe._finish("Di kota mana Shoigu singgah?", "id", "Surabaya [1].",
                            [Evidence(1, Hit("d#2", stop, {"source": "d"}, 1.0), stop)])
    assert not surabaya.abstained  # an opener is a whole word: "sure" does not stop "Surabaya"


def test_a_date_takes_the_year_the_sources_write_with_it():
    from rag.repairs import year_as_written

    ev = "Tahun 1800-an, kota yang tanggal 7 Agustus 2005 genap berusia 336 tahun itu sudah ramai."
    assert year_as_written("On August 7, 1800, Padang grew [1].", ev) == "On August 7, 2005, Padang grew [1]."
    assert year_as_written("7 Agustus 1800 [1].", ev) == "7 Agustus 2005 [1]."
    assert year_as_written("8 Agustus 1800", ev) == "8 Agustus 1800"  # another day: left to the checks
    assert year_as_written("7 August 1800", "pada 7/8/2005 dan 7/8/2006") == "7 August 1800"  # two years: no guess


def test_an_english_question_restated_in_the_sources_words_is_no_answer():
    from rag.places import indonesian_forms

    question = "What is the name of the Chinese Foreign Ministry spokesperson who announced the visit?"
    assert {"kementerian", "luar", "negeri", "juru", "bicara"} <= set(indonesian_forms(question).split())
    ev = "Juru Bicara Kementerian Luar Negeri China mengumumkan kunjungan itu."
    # the office of the question in Indonesian words (one miscopied) names no one
    assert grounding("Juru Bicara Kemenerian Luar Negeri China", question, ev, "en")[0] == 0.0
    ev_named = "Juru Bicara Kementerian Luar Negeri China Mao Ning mengumumkan kunjungan itu."
    assert grounding("Mao Ning", question, ev_named, "en") == (1.0, True)


def test_an_english_answer_gets_the_companys_legal_form_and_no_indonesian_title():
    from rag.repairs import widen_to_source

    text = ("Pemerintah Indonesia bersama dengan PT Indelberg Indonesia mengembangkan lapangan minyak. "
            "Kata Menteri Kehutanan MS Kaban.")
    question = "What is the name of the Indonesian company developing the oil fields?"
    assert widen_to_source("Indelberg Indonesia", question, "en", [text]) == "PT Indelberg Indonesia"
    assert widen_to_source("MS Kaban", "Who is the forestry minister?", "en", [text]) is None


def test_the_restated_question_and_the_asked_person_are_dropped_from_an_answer():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.repairs import drop_asked_name, drop_restatement
    from rag.retrieve import Hit

    question = "Apa istilah untuk gaya khas teater yang diciptakan Harold Pinter?"
    reply = 'Istilah untuk gaya khas teater yang diciptakan Harold Pinter adalah "pinteresque". [1]'
    assert drop_restatement(reply, question) == '"pinteresque". [1]'
    # Something the question did not say before the copula: the whole reply is the answer.
    assert drop_restatement("Empat jenis penyu yakni belimbing dan lekang.", "Ada berapa jenis penyu di sana?") \
        == "Empat jenis penyu yakni belimbing dan lekang."
    assert drop_restatement("the parade is also known as Great Victory", "What is the parade known as?") \
        == "the parade is also known as Great Victory"  # one restated word only
    asked = "Di perusahaan manakah, Kusnadi Sugiharto memegang posisi sebagai General Manager Procurement"
    assert drop_asked_name("PT International Suzuki Indonesia Kusnadi Sugiharto", asked) \
        == "PT International Suzuki Indonesia"
    # Part of a longer name of the question, a surname alone, a name after a preposition: kept.
    spokesman = "Juru Bicara Kemenerian Luar Negeri China"
    assert drop_asked_name(spokesman, "Siapa juru bicara Kementerian Luar Negeri China?") == spokesman
    assert drop_asked_name("Ani Yudhoyono", "Siapa istri Susilo Bambang Yudhoyono?") == "Ani Yudhoyono"
    assert drop_asked_name("Ansambel Mahatam dari STSI Padangpanjang", "Which ensemble from STSI Padangpanjang won?") \
        == "Ansambel Mahatam dari STSI Padangpanjang"

    pipe = Pipeline(load_settings(), None, None, None, Prompts())
    text = 'Begitu melekatnya Pinter dengan gaya khas tersebut, sampai ada istilah untuknya, yakni "pinteresque".'
    evidence = [Evidence(1, Hit("c1", text, {"source": "d1"}, 1.0), text)]
    answer = pipe._finish(question, "id", reply, evidence)
    assert not answer.abstained and "pinteresque" in answer.text and "Harold" not in answer.text


def test_a_word_that_only_begins_like_a_question_word_is_news():
    question = "Apa istilah untuk gaya khas teater yang diciptakan Harold Pinter?"
    text = 'Ada istilah dalam bahasa Inggris untuknya, yakni "pinteresque".'
    # "pinteresque" is not "Pinter": the reply names something, and the source holds it.
    assert grounding(f'Istilah itu adalah "pinteresque" {question}', question, text, "id")[0] == 1.0
    assert grounding("Istilah gaya khas teater Harold Pinter", question, text, "id")[0] == 0.0


def test_a_when_answer_from_another_sentence_gives_way_to_the_date_of_the_matching_one():
    from rag.repairs import repair_span

    text = ("Djoko terpilih menerima Habibie Award 2005 atas prestasi dan konsistensinya. Karyanya menjadi "
            "karya ilmiah terbaik tahun 2000 dan mendapat Kennedy Award 2001.")
    question = "Tahun berapakah Djoko Tjahjono mendapat Habibie Award atas prestasi dan konsistensinya?"
    assert repair_span("tahun 2000", question, "id", [text]) == "2005"
    assert repair_span("2005", question, "id", [text]) is None  # already the matching sentence's
    assert repair_span("tahun 2000", question, "en", [text]) is None  # "Rabu (31/8)" is no English answer
    # A date the best sentence writes in another form, or inside a range, is the same date.
    summit = "Putin akan bertemu Xi di KTT SCO di Samarkand, yang akan berlangsung dari 15-16 September 2022."
    assert repair_span("15 September 2022", "Kapan KTT SCO di Samarkand dimulai?", "id", [summit]) is None
    # The ends of a lifespan are no date of an event.
    life = "Konser itu menampilkan jejak sutradara Teguh Karya (1934-2001) dalam film Ibunda."
    assert repair_span("1974", "Tahun berapakah film Ibunda dibuat Teguh Karya?", "id", [life]) is None


def test_the_dateline_outlet_is_no_name_for_a_who_answer():
    from rag.repairs import repair_span

    evidence = ["Osama Shaltout dari Partai Solidaritas, Fawzi Ghazal dari Partai Mesir 2000.",
                "Cairo, Kompas - Rakyat Mesir hari Rabu (7/9) untuk pertama kali memilih presiden secara langsung "
                "dengan sistem multikandidat."]
    question = "Siapakah kandidat presiden Mesir dari Partai Solidaritas pada pemilu pertama multikandidat?"
    # The dateline's clause matches the question best, but its only names are the place and the outlet.
    assert repair_span("Osama Shaltout", question, "id", evidence) is None


def test_asked_which_outlet_a_story_quotes_the_answer_is_the_quoted_one_not_the_storys_own():
    from rag.repairs import quoted_outlet

    text = ("“SCO menawarkan alternatif nyata,” kata Yuri Ushakov kepada wartawan di Moskow seperti dikutip "
            "ChannelNewsAsia.com, Kamis (15/9/2022).")
    question = "Which news site was Yuri Ushakov's remark quoted from?"
    assert quoted_outlet("Solopos.com", question, [("Solopos.com", text)]) == "ChannelNewsAsia.com"
    assert quoted_outlet("Solopos", question, [("Solopos.com", text)]) == "ChannelNewsAsia.com"  # domain dropped
    glued = "Dilansir dariexpress.co.uk pada Kamis (15/9/2022), pertemuan Xi dan Putin dijadwalkan."
    assert quoted_outlet("Intisari", "Situs apa yang dikutip Intisari?", [("Intisari", glued)]) == "express.co.uk"
    # Not asked about a quote, or the answer is not the story's own outlet: left alone.
    assert quoted_outlet("Solopos.com", "Which site published the story?", [("Solopos.com", text)]) is None
    peskov = "Kantor berita apa yang melaporkan pernyataan Peskov?"
    assert quoted_outlet("TASS", peskov, [("Solopos.com", text)]) is None


def test_an_answer_copied_with_a_word_replaced_takes_the_sources_phrase():
    from rag.repairs import realign

    text = ("Delegasi China tiba di Korea Utara. Victory Day diperingati setiap 27 Juli oleh Korut saat gencatan "
            "senjata dengan Korea Selatan sejak 1950-1953.")
    answer = "Pembentukan Senjata Korea Utara dengan Korea Selatan sejak 1950-1953"
    assert realign(answer, [text]) == "gencatan senjata dengan Korea Selatan sejak 1950-1953"
    # Already the source's words, a number range the answer did not give, or too little in common: kept.
    assert realign("gencatan senjata dengan Korea Selatan", [text]) is None
    summit = "KTT SCO di Samarkand akan berlangsung dari 15-16 September 2022."
    assert realign("15 September 2022", [summit]) is None
    assert realign("Parade militer besar di Beijing", [text]) is None


def test_an_english_question_about_languages_gets_the_languages_in_english():
    from rag.repairs import languages_in_english

    text = 'Sebuah spanduk bertulisan "Selamat Datang!" dalam bahasa Korea dan Rusia berdiri di belakang barisan.'
    question = "In which two languages was the banner welcoming Shoigu written?"
    assert languages_in_english("North Korea and Russian", question, [text]) == "Korean and Russian"
    assert languages_in_english("Korean and Russian", question, [text]) is None  # already so
    assert languages_in_english("Shoigu", "Who was welcomed by the banner?", [text]) is None  # not about languages
    # A language the table does not know: the answer is left to the model.
    assert languages_in_english("Klingon", question, ["Spanduk itu dalam bahasa Klingon."]) is None


def test_a_when_answer_that_is_only_the_articles_date_is_withheld():
    from rag.answer import Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    pipe = Pipeline(load_settings(), None, None, None, Prompts())
    text = "Delegasi militer Rusia dipimpin Menteri Pertahanan Sergei Shoigu tiba di Korea Utara."
    evidence = [Evidence(1, Hit("c1", text, {"source": "d1", "date": "2023-07-27"}, 1.0), text)]
    # Nothing in the excerpt dates the departure; 27 July 2023 is the day the story ran.
    answer = pipe._finish("When did Shoigu leave North Korea?", "en", "July 27, 2023 [1].", evidence)
    assert answer.abstained and "article's own date" in answer.reason
    # A day the excerpt writes, completed by the article's year, stands.
    dated = "Victory Day diperingati setiap 27 Juli oleh Korut."
    evidence = [Evidence(1, Hit("c1", dated, {"source": "d1", "date": "2023-07-27"}, 1.0), dated)]
    answer = pipe._finish("On what date does North Korea celebrate Victory Day?", "en", "27 July 2023 [1].", evidence)
    assert not answer.abstained


def test_asked_for_the_person_from_a_country_the_one_the_sources_mark_with_it():
    from rag.repairs import bracketed_country

    text = ("Selain Linda yang mendapat perak, Darwati (10 km jalan cepat) juga meraih perak. Darwati tertinggal "
            "di belakang Yuan Yufang (Malaysia). Peneliti Lembaga Ilmu Pengetahuan Indonesia (LIPI) hadir.")
    question = "Siapakah atlet dari Malaysia yang mengalahkan Darwati di nomor 10 km jalan cepat?"
    assert bracketed_country("Linda", question, [text]) == "Yuan Yufang"
    assert bracketed_country("Yuan Yufang", question, [text]) is None
    # Initials in brackets are a body's, not a country: "Siapa peneliti LIPI …" keeps its answer.
    assert bracketed_country("Yayuk R Suhardjono", "Siapa peneliti LIPI yang hadir?", [text]) is None


def test_the_asked_name_with_an_age_only_restates_the_question():
    question = "Apakah panggilan akrab untuk Nurcholish Madjid"
    text = "Cendekiawan Muslim Nurcholish Madjid (66) atau yang akrab dipanggil Cak Nur wafat kemarin."
    assert grounding("Nurcholish Madjid (66)", question, text, "id")[0] == 0.0
    assert grounding("Cak Nur", question, text, "id")[0] == 1.0


def test_a_lower_case_title_before_a_name_is_part_of_it():
    from rag.repairs import widen_to_source

    text = "Kepala Bidang Informasi RSPI dr Ilham Patu SpBS mengatakan pasien itu membaik."
    question = "Siapakah Kepala Bidang Informasi RSPI?"
    assert widen_to_source("Ilham Patu SpBS", question, "id", [text]) == "dr Ilham Patu SpBS"


def test_a_bare_date_answers_only_a_question_about_time():
    from rag.answer_checks import date_for_no_time, only_a_date

    assert only_a_date("1 September [3].") and only_a_date("Rabu (31/8)") and only_a_date("Until 16 September 2022")
    assert not only_a_date("Parade Kemenangan pada 3 September") and not only_a_date("2001")
    asked_name = "What is the Beijing military parade marking the end of World War II also known as?"
    assert date_for_no_time("1 September [3].", asked_name)
    assert not date_for_no_time("Parade Kemenangan [1].", asked_name)
    # Asked for a moment by other words than "when": a date is the answer.
    assert not date_for_no_time("1 September", "What is the deadline for the reports?")
    assert not date_for_no_time("3 September", "Until what date is Putin staying in China?")
    assert not date_for_no_time("Rabu (31/8)", "Kapan Putin tiba di Tianjin?")
    assert not date_for_no_time("31 Agustus hingga 3 September", "Berapa lama Putin di China?")
    # A time word inside a name asks for no time.
    assert date_for_no_time("27 July 2023 [3].", "What is Victory Day in North Korea?")


def test_a_closing_clause_that_restates_the_question_is_dropped():
    from rag.repairs import drop_restatement

    q = "Apakah nama film yang masuk nominasi FFI 2005, diproduksi oleh PT Sinemart Pictures arahan Rudy Soedjarwo?"
    said = 'Film yang masuk nominasi FFI 2005 adalah "Tentang Dia" yang diproduksi oleh PT Sinemart Pictures [1].'
    assert drop_restatement(said, q) == '"Tentang Dia" [1].'
    # A clause with news of its own stays.
    kept = "Brownies yang diproduksi oleh PT Kharisma Starvision [1]."
    assert drop_restatement(kept, q) == kept


def test_a_title_of_function_words_is_news_when_the_sources_write_it():
    q = "Apakah nama film yang masuk nominasi FFI 2005, diproduksi oleh PT Sinemart Pictures arahan Rudy Soedjarwo?"
    sources = "Tentang Dia (PT Sinemart Pictures) arahan Rudy Soedjarwo, Brownies (PT Sinemart Pictures) karya Hanung."
    assert grounding('"Tentang Dia"', q, sources, "id")[0] == 1.0
    assert grounding("Tentang Dia (PT Sinemart Pictures)", q, sources, "id")[0] == 1.0
    assert grounding("Tentang Kita", q, sources, "id")[0] == 0.0
    # A lone pronoun is no title.
    assert grounding("Dia", q, sources, "id")[0] == 0.0


def test_tied_best_clauses_that_repeat_a_sentence_still_repair_a_date():
    from rag.repairs import repair_span

    question = "Kapan diadakannya International Conference on Thinking ke-7 di Singapura?"
    evidence = ["Tulisan Bisakah Orang Asia Berpikir? (Juni 1997) adalah makalahnya pada International Conference "
                "on Thinking ke-7 di Singapura.",
                "(Juni 1997) adalah makalahnya pada International Conference on Thinking ke-7 di Singapura.",
                "Wenas meraih penghargaan pada pertemuan 15th International Photovoltaic Science and Engineering "
                "Conference (PVSEC) yang berlangsung di Shanghai, China, 9-15 Oktober 2005."]
    assert repair_span("15 Oktober 2005", question, "id", evidence) == "Juni 1997"
    # Tied clauses that hold different dates name no one answer.
    other = [evidence[0], evidence[1].replace("Juni 1997", "Mei 1998"), evidence[2]]
    assert repair_span("15 Oktober 2005", question, "id", other) is None


def test_an_english_name_built_on_the_questions_noun_is_news_when_the_sources_write_it():
    sources = "Acara, yang dikenal sebagai Parade Kemenangan atau Great Victory, mengingatkan kita akan kemenangan."
    q = "What is the Beijing military parade marking the end of World War II also known as?"
    assert grounding("The Great Victory Parade.", q, sources, "en")[0] == 1.0
    # Made up around the question's noun, or the question's own name with a first name added: no news.
    assert grounding("The Great Liberation Parade.", q, sources, "en")[0] == 0.0
    welcomed = "Who welcomed Shoigu at the airport?"
    assert grounding("Sergei Shoigu", welcomed, "Menteri Pertahanan Sergei Shoigu tiba.", "en")[0] == 0.0


def test_a_name_spelled_out_from_the_acronym_the_sources_write_is_grounded():
    sources = "Nota kesepahaman damai ditandatangani di Helsinki. Penandatanganan MOU dilakukan Hamid Awaluddin."
    q = "What did the Indonesian government and GAM sign in Helsinki?"
    assert grounding("A Memorandum of Understanding (MOU).", q, sources, "en")[0] == 1.0
    assert grounding("A Memorandum of Understanding.", q, sources, "en")[0] == 1.0
    assert grounding("A Treaty of Friendship.", q, sources, "en")[0] == 0.0


def test_a_who_answer_that_is_the_questions_own_person_is_no_answer():
    from rag.answer_checks import names_the_asked_person
    from rag.repairs import drop_asked_name

    q = "Kepada siapakah, Koichiro Matsuura menyerahkan sertifikat pengakuan UNESCO terhadap keris Indonesia?"
    said = "Direktur Jenderal UNESCO Koichiro Matsuura [2]."
    assert names_the_asked_person(said, q)
    # His title is kept with him (dropping his name would leave a title as the answer).
    titled = "Direktur Jenderal UNESCO Koichiro Matsuura"
    assert drop_asked_name(titled, q) == titled
    assert not names_the_asked_person("Wakil Presiden Jusuf Kalla [2].", q)
    # A body the question names, after the answer's person; a question about the person alone.
    party = "Siapakah kandidat presiden Mesir dari Partai Uni Demokrasi pada pemilu?"
    assert not names_the_asked_person("Ibrahim Tork dari Partai Uni Demokrasi.", party)
    assert not names_the_asked_person("Direktur Jenderal UNESCO Koichiro Matsuura", "Siapakah Koichiro Matsuura?")


def test_a_span_of_time_or_a_year_does_not_answer_a_count_of_something_else():
    from rag.answer_checks import time_for_a_count

    soldiers = "How many soldiers took part in the military parade in Beijing on 3 September?"
    members = "Berapa orang anggota delegasi militer Rusia yang dipimpin Shoigu ke Korea Utara?"
    assert time_for_a_count("80 tahun [2].", soldiers)
    assert time_for_a_count("tahun 2020 [2].", members)
    assert not time_for_a_count("10.000 tentara [1].", soldiers)
    assert not time_for_a_count("12 orang, sejak 2020 [1].", members)  # one number is a count
    # Questions that ask for time or an age may be answered so.
    assert not time_for_a_count("72 tahun", "How old is Vladimir Putin?")
    assert not time_for_a_count("72 tahun", "Berapa usia Vladimir Putin?")
    assert not time_for_a_count("3 hari", "Berapa lama Putin di China?")
    assert not time_for_a_count("40 tahun", "Berapa lamakah kuota tekstil membelenggu perdagangan?")
    assert not time_for_a_count("5 tahun penjara", "Berapa tahun hukuman penjara untuk terdakwa?")


def test_a_bare_number_does_not_answer_a_question_that_asks_for_no_number():
    from rag.answer_checks import number_for_no_number

    nickname = "Apakah panggilan akrab untuk Nurcholish Madjid"
    assert number_for_no_number("66 [1].", nickname)  # his age, bracketed after his name
    assert not number_for_no_number("Cak Nur [1].", nickname)
    assert not number_for_no_number("66", "Apa nomor punggung pemain itu?")  # a number is asked for
    assert not number_for_no_number("2005", "Pada tahun apa film itu dibuat?")
    assert not number_for_no_number("66", "Berapa usia Nurcholish Madjid?")  # a how-many question


def test_a_generation_stuck_in_a_loop_is_no_answer():
    from rag.answer_checks import repeats_itself

    looped = ("Kecamatan Long Iram, Kecamatan Muara Kelian, Kecamatan Long Iram, Kecamatan Muara Kelian, "
              "Kecamatan Long Iram, Kecamatan [1]")
    assert repeats_itself(looped)
    assert not repeats_itself("Kabupaten Tabanan dan Kabupaten Buleleng, di provinsi Bali [1].")
    assert not repeats_itself("Presiden Xi, Presiden Putin dan Presiden Raisi [1].")


def test_a_whole_sentence_is_no_answer_to_who_or_where():
    from rag.answer_checks import sentence_for_a_name

    who = "Siapakah yang menjelaskan patroli udara bersama di Selat Malaka?"
    copied = ("Kompas - Empat negara, yakni Indonesia, Malaysia, Singapura, dan Thailand, sepakat mengadakan "
              "patroli udara bersama di sepanjang Selat Malaka guna mengatasi perompakan bersenjata di laut [2].")
    assert sentence_for_a_name(copied, who)
    assert not sentence_for_a_name("Kolonel Suryo Wiranto, Asisten Operasi Armada Barat TNI Angkatan Laut [1].", who)
    assert not sentence_for_a_name(copied, "Apa yang disepakati empat negara tentang Selat Malaka?")


def test_an_answer_whose_new_names_the_sources_hold_only_half_of_is_withheld():
    """ "Pemerintah Indonesia" for who directed a film: "Indonesia" is in the excerpt, "Pemerintah" is not."""
    from rag.answer import UNGROUNDED, Pipeline
    from rag.config import load_settings
    from rag.evidence import Evidence
    from rag.prompting import Prompts
    from rag.retrieve import Hit

    text = "Film Ranjang Pengantin (1974) karya Teguh Karya diputar lagi di Indonesia pekan ini."
    evidence = [Evidence(1, Hit("d#1", text, {"source": "d", "title": "Film"}, 1.0), text)]
    pipe = Pipeline(load_settings(None), None, None, None, Prompts())
    question = "Siapakah yang menyutradarai film Ranjang Pengantin di tahun 1974"
    made_up = pipe._finish(question, "id", "Pemerintah Indonesia [1].", evidence)
    assert made_up.abstained and made_up.reason.startswith(UNGROUNDED)
    assert not pipe._finish(question, "id", "Teguh Karya [1].", evidence).abstained


def test_a_half_translated_name_is_put_back_in_the_sources_words():
    from rag.repairs import source_name_for_mixed

    excerpt = ["Xi Jinping akan menghadiri peringatan 80 tahun Kemenangan Perang Patriotik Raya di Moskow."]
    question = "What does Russia call the war whose 80th victory anniversary Xi Jinping attended in Moscow?"
    assert source_name_for_mixed('It is called the "War of Patriotism Raya" [1].', question, excerpt) == \
        'It is called the "Perang Patriotik Raya" [1].'
    # A full translation, a name copied whole, the question's own name: nothing to put back.
    for answer in ("The Great Patriotic War [1].", "Perang Patriotik Raya [1].", "Xi Jinping [1]."):
        assert source_name_for_mixed(answer, question, excerpt) == ""
    # Every word there, one as its English cognate, in English order: the source's name as written.
    texas = ["Stephen Higgs dari Universitas Texas menemukan virus itu."]
    assert source_name_for_mixed("Texas University [1].", "At which university does Stephen Higgs work?",
                                 texas) == "Universitas Texas [1]."


def test_names_the_sources_write_apart_are_no_half_translation():
    from rag.repairs import source_name_for_mixed

    # "Wang Yongzhi" is a second name of the excerpt, "Commanding" a form of its "Command", and "United States"
    # is turned English later, from a name copied whole.
    cases = [
        ("Qi Faren and Wang Yongzhi [1].", "Perancang utamanya Qi Faren dan Wang Yongzhi."),
        ("Commanding and General Staff College [1].", "Lulusan Command and General Staff College di AS."),
        ("Presiden Amerika Serikat Donald Trump [1].", "Presiden Amerika Serikat Donald Trump tiba."),
    ]
    for answer, excerpt in cases:
        assert source_name_for_mixed(answer, "Who?", [excerpt]) == ""
