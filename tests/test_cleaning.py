"""Boilerplate removal and metadata extraction on news pages."""

import datetime as dt

from rag.cleaning import clean_news, find_date
from tests.conftest import SEEDS


def test_related_lists_promos_and_footers_are_removed_story_kept():
    doc = clean_news((SEEDS / "003_128769e0cb1e69e9.txt").read_text(encoding="utf-8"))
    assert "Mitsubishi" not in doc.text
    assert "Honda Motor Jateng" not in doc.text
    assert "Baca Juga" not in doc.text
    assert "Google News" not in doc.text
    assert "Iran adalah negara pengamat SCO" in doc.text
    assert doc.title.startswith("Unjuk Kekuatan pada Barat")
    assert doc.outlet == "Solopos.com"
    assert doc.date == "2022-09-15"


def test_related_headline_after_baca_juga_line_is_dropped_but_story_continues():
    doc = clean_news((SEEDS / "001_0dbee11f2985af5b.txt").read_text(encoding="utf-8"))
    assert "Nekat Tetap Hadiri Parade Rusia" not in doc.text
    assert "Berita Terkait" not in doc.text and "Mikrofon Bocor" not in doc.text
    assert "diperingati setiap tanggal 9 Mei" in doc.text
    assert doc.outlet == "MerahPutih.com"


def test_title_suffix_outlet_and_repeated_lines():
    raw = "Judul Berita Penting Hari Ini - inews\nJudul Berita Penting Hari Ini\nKalimat satu.\nKalimat satu.\n"
    doc = clean_news(raw)
    assert doc.title == "Judul Berita Penting Hari Ini"
    assert doc.outlet == "inews"
    assert doc.text == "Kalimat satu."


def test_date_without_year_is_resolved_from_the_weekday():
    # 27 August fell on a Wednesday (Rabu) in 2025.
    assert find_date("dalam konferensi pers pada Rabu, 27 Agustus, seperti", today=dt.date(2026, 1, 1)) == "2025-08-27"
    assert find_date("pada Kamis (15/9/2022) hingga") == "2022-09-15"
    assert find_date("tanpa tanggal") == ""


def test_seed_without_outlet_gets_truncated_first_sentence_as_title():
    doc = clean_news((SEEDS / "000_c5a5360e97af4f8b.txt").read_text(encoding="utf-8"))
    assert doc.title.startswith("Jakarta — Presiden Rusia")
    assert len(doc.title) <= 91
    assert doc.date == "2025-08-27"


def test_a_glued_dateline_is_split_from_the_story():
    from rag.cleaning import clean_news

    text = clean_news("Solopos.com, JAKARTAPresiden China Xi Jinping tiba. KPU dan DPRD setuju.\n").text
    assert "JAKARTA — Presiden China" in text
    assert "KPU dan DPRD" in text  # acronyms with spaces are left alone


def test_bylines_leave_the_story_and_are_kept_as_metadata():
    page = ("Putin dan Xi Akan Bertemu di Samarkand Pekan Ini\n\nMentari DP\n\nEditor\n\n"
            "Intisari-Online.com - Presiden Rusia Vladimir Putin akan bertemu Xi Jinping.\n"
            "Editor : Muhammad Fida Ul Haq\nFollow Berita iNews di Google News\n")
    doc = clean_news(page)
    assert doc.byline == "Editor: Mentari DP; Editor: Muhammad Fida Ul Haq"
    assert "Mentari" not in doc.text and "Fida" not in doc.text
    assert doc.text.startswith("Intisari-Online.com - Presiden Rusia")
    # A name-like line deep in the story is not taken for a byline by a later stray label.
    sentences = "".join(f"Kalimat {i}.\n" for i in range(5))
    story = f"Judul Berita Yang Cukup Panjang Sekali\n{sentences}Budi Santoso\nEditor\n"
    assert clean_news(story).byline == "" and "Budi Santoso" in clean_news(story).text


def test_seed_bylines():
    from rag.documents import ReadReport, iter_documents

    docs = {d.doc_id: d for d in iter_documents([SEEDS], [".txt"], 10**7, ReadReport())}
    assert docs["002_ff8ad90726eb07f1.txt"].byline == "Editor: Mentari DP"
    assert docs["004_49bd237b7ccad95f.txt"].byline == "Editor: Muhammad Fida Ul Haq"
    assert docs["000_c5a5360e97af4f8b.txt"].byline == ""


def test_a_one_line_story_is_never_emptied_into_its_title():
    raw = 'Perjuangan itu berawal sejak tahun 1990-an. Kini para nelayan pun lantang: "Kami bebas sianida."'
    doc = clean_news(raw)
    assert doc.text == raw
    assert doc.title.startswith("Perjuangan itu berawal")
