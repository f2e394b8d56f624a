"""Articles in several languages through ingest and ask: each article's language, its chunks
inside the model's window, sentence ends of every script, and the questions of the issue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.fake import FakeEmbedder
from rag.config import Settings
from rag.engine import Engine
from rag.ingest.sentences import sentence_spans
from tests.conftest import FAKE_SETTINGS

ARABIC = """---
title: "الصدر يلغي الاعتكاف بعد تهديد صريح لحياته"
source: "صحيفة بغداد"
date: "2024-05-03"
---
أعلن مقتدى الصدر يوم الجمعة إلغاء اعتكافه في مسجد الكوفة، بعد أن نشر مجهولون مقطعاً مصوراً يظهر فيه رجل ملثم يعلن أن الصدر هو المهدي المنتظر.

وقال مساعدو الصدر إن المقطع كان تهديداً صريحاً لحياته، وإن من يقف خلفه أراد استفزاز أنصاره. هل كان ذلك متوقعاً؟ لم يعلق المكتب.
"""
TURKISH = """---
title: "Erdoğan Ankara'da enerji anlaşmasını imzaladı"
source: "Anadolu Ekonomi"
date: "2024-06-11"
---
Cumhurbaşkanı Erdoğan, Ankara'da Irak ile yeni bir enerji anlaşması imzaladı. Anlaşmaya göre Kerkük-Yumurtalık boru hattından günde 350 bin varil petrol akacak.
"""
ENGLISH = """---
title: "Müller-Kalin opens the Zürich tram depot"
source: "Swiss Ledger"
---
Transport chief Anja Müller-Kalin opened the new tram depot in Zürich on Monday. The depot holds 42 trams.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "ar-sadr.txt").write_text(ARABIC, encoding="utf-8")
    (articles / "tr-energy.txt").write_text(TURKISH, encoding="utf-8")
    (articles / "en-depot.txt").write_text(ENGLISH, encoding="utf-8")
    return articles


@pytest.fixture
def engine(tmp_path: Path, folder: Path) -> Engine:
    engine = Engine(FAKE_SETTINGS, tmp_path / "index", embedder=FakeEmbedder(64))
    engine.ingest([folder])
    return engine


def test_each_article_carries_its_language(engine):
    languages = {info.doc_id: info.language for info in engine.documents()}
    assert languages == {"ar-sadr": "ar", "tr-energy": "tr", "en-depot": "en"}
    assert engine.document("ar-sadr").language == "ar"


@pytest.mark.parametrize("question, doc_id", [
    ("من ألغى الاعتكاف؟", "ar-sadr"),             # Arabic, the question written with a hamza the article lacks
    ("ما هو التهديد لحياة الصدر", "ar-sadr"),
    ("Erdogan Ankara anlasma", "tr-energy"),      # no diacritics, no apostrophe suffix
    ("Who opened the depot, Muller-Kalin?", "en-depot"),
    ("tram depot in Zurich", "en-depot"),
])
def test_questions_find_their_article_by_key_words(engine, question, doc_id):
    answer = engine.ask(question, mode="keyword")
    assert answer.passages[0].citation.doc_id == doc_id
    assert answer.evidence.keyword_coverage >= 0.25  # the gate's key words (abstention: test_quality)


def test_arabic_and_chinese_sentence_ends():
    text = "قال الوزير إن المشروع سيكتمل. وأضاف أن التمويل جاهز؟ نعم. 伊拉克缺学校。政府计划建设新学校！好的"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "قال الوزير إن المشروع سيكتمل.", "وأضاف أن التمويل جاهز؟", "نعم.", "伊拉克缺学校。", "政府计划建设新学校！", "好的"]


def test_arabic_chunks_fit_the_real_models_window(tmp_path, folder):
    long_arabic = ARABIC + "\n\n" + " ".join(["وقال المتحدث باسم المكتب إن الزيارة ستتم في الأسبوع المقبل، وإن الوفد سيضم خبراء من بغداد والبصرة،"] * 12)
    (folder / "ar-sadr.txt").write_text(long_arabic, encoding="utf-8")
    engine = Engine(Settings(), tmp_path / "real")
    report = engine.ingest([folder])
    assert not [w for w in report.warnings if "window" in w]
    window = engine.embedder.max_tokens
    for info in engine.documents():
        document = engine.document(info.doc_id)
        title_tokens = engine.embedder.count_tokens(document.title)
        for passage in engine.ask(document.title, k=20, where=None).passages:
            if passage.citation.doc_id == info.doc_id:
                assert engine.embedder.count_tokens(passage.text) + title_tokens <= window + 2


def test_a_misread_snippet_takes_its_files_language(tmp_path):
    export = tmp_path / "export.jsonl"
    rows = [{"id": "a", "text": "The council approved the new budget for the schools of the city on Monday."},
            {"id": "b", "text": "Stage 1: Mike Teunissen, Jumbo–Visma · Stage 3: Julian Alaphilippe, Deceuninck"}]
    export.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    engine = Engine(FAKE_SETTINGS, tmp_path / "index", embedder=FakeEmbedder(64))
    engine.ingest([export])
    assert {info.doc_id: info.language for info in engine.documents()} == {"a": "en", "b": "en"}


def test_an_index_of_the_previous_format_is_rebuilt_by_the_next_ingest(engine, folder):
    pointer = engine.index_dir / "index.json"
    data = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({**data, "format": 3}))
    fresh = Engine(FAKE_SETTINGS, engine.index_dir, embedder=FakeEmbedder(64))
    report = fresh.ingest([folder / "en-depot.txt"])
    assert any("older format" in w for w in report.warnings)
    assert {info.doc_id for info in fresh.documents()} == {"ar-sadr", "tr-energy", "en-depot"}
