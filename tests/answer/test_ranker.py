"""The learned order of explanation sentences: its features, its shipped weights, its fit."""

import importlib.util
import json
import sys

import numpy as np
import pytest

from embeddings.fake import FakeEmbedder
from rag.answer.explain import explain
from rag.answer.scoring import Unit, score_units
from rag.answer.extract import extract_answer
from rag.answer.ranker import FEATURES, WEIGHTS, Ranker, default_ranker, features
from rag.config import load_settings
from rag.index.sparse import keyword_tokens
from tests.answer.test_why_answers import ARTICLE, DOCUMENT, passage_of

from tests.conftest import ROOT


def _trainer():
    spec = importlib.util.spec_from_file_location("train_explain_ranker", ROOT / "scripts" / "train_explain_ranker.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def _asked(question: str):
    terms = set(keyword_tokens(question))
    return lambda text: len(terms & set(keyword_tokens(text))) / len(terms)


STORY = [
    "The council met on Monday.",
    "Engineers warned that the bridge was unsafe after the storms.",
    "The mayor closed the bridge on Tuesday.",
    "Traffic moved to the ring road.",
]


def test_new_words_are_counted_with_the_tokenizer_of_the_question_terms():
    def unstemmed(text):
        return keyword_tokens(text, stemming=False)

    question = "Why did the mayor close the bridges?"
    units = [Unit("The mayor had to close the bridges.", "town", 0), Unit("Storms damaged the bridges.", "town", 1)]
    scoring = score_units("why", units, [1.0, 0.5], _asked(question), frozenset(unstemmed(question)), unstemmed)
    novel = features(scoring, _asked(question))[:, FEATURES.index("novel")]
    assert novel[0] == 0.0 and novel[1] == pytest.approx(2 / 3)  # "storms", "damaged" are new; "bridges" is not


def test_the_shipped_weights_name_every_feature_and_say_what_they_were_fitted_on():
    shipped = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert list(shipped["weights"]) == list(FEATURES)
    assert shipped["questions"] > 100 and all("why-fresh5" not in s for s in shipped["sets"])
    assert default_ranker() is not None


def test_weights_naming_an_unknown_feature_are_refused():
    with pytest.raises(ValueError, match="unknown features: \\['distance'\\]"):
        Ranker({"rule": 1.0, "distance": 2.0})


def test_features_place_each_sentence_relative_to_the_best_matching_event():
    units = [Unit(text, "town", n) for n, text in enumerate(STORY)] + [Unit("Elsewhere a bridge opened.", "other", 0)]
    terms = frozenset(keyword_tokens("Why did the mayor close the bridge?"))
    scoring = score_units("why", units, [0.1, 0.3, 1.0, 0.2, 0.1], _asked("Why did the mayor close the bridge?"), terms)
    rows = features(scoring, _asked("Why did the mayor close the bridge?"))
    column = {name: rows[:, n] for n, name in enumerate(FEATURES)}
    assert rows.shape == (5, len(FEATURES))
    assert list(column["best"]) == [0, 0, 1, 0, 0]
    assert list(column["before_1"]) == [0, 1, 0, 0, 0] and list(column["before_2"]) == [1, 0, 0, 0, 0]
    assert list(column["after_1"]) == [0, 0, 0, 1, 0] and list(column["elsewhere"]) == [0, 0, 0, 0, 1]
    assert column["clause"][1] > 0 and column["temporal"][1] == 1  # "after the storms"
    assert column["match_2"][1] == 1 and column["match_3"][3] == 1
    # What a sentence says beyond the question: all of "council met Monday", none of "mayor closed the bridge"
    assert column["novel"][0] == 1.0 and column["novel"][2] < column["novel"][1]
    assert not column["how:best"].any()  # kind copies are for how and after questions only
    how = features(score_units("how", units, [0.1, 0.3, 1.0, 0.2, 0.1]), None)
    assert list(how[:, FEATURES.index("how:best")]) == [0, 0, 1, 0, 0]


def test_when_the_ranker_trusts_the_event_sentence_the_rules_explanation_still_follows_it():
    question = "Why did the mayor close the bridge?"
    embedder = FakeEmbedder(64)
    event = "The mayor closed the bridge on Tuesday, officials said. Traffic moved to the ring road."
    extraction = extract_answer(question, embedder.embed([question])[0], set(keyword_tokens(question)),
                                [passage_of(event)], embedder.embed, keyword_tokens, 3,
                                lambda doc_id: DOCUMENT, default_ranker())
    reason = "Engineers warned that the old bridge was seen as unsafe after the spring storms."
    said = [s.sentence for s in extraction.sentences]
    assert reason in said[:2] and "The mayor closed the bridge on Tuesday, officials said." in said[:2]
    assert extraction.note == ""
    # Sentences from outside the retrieved passage (the reason, and the ranker's third choice) are
    # each cited to a passage made for them, with exact offsets into the article.
    added = {p.text: p for p in extraction.added_passages}
    assert reason in added and all(ARTICLE[p.citation.start:p.citation.end] == text for text, p in added.items())
    ranks = {s.sentence: s.passage_rank for s in extraction.sentences}
    assert ranks[reason] == added[reason].rank


def test_a_ranker_decides_the_order_but_the_rules_decide_whether_anything_explains_the_event():
    units = [Unit("The mayor closed the bridge on Tuesday.", "town", 0), Unit("Traffic moved to the ring road.", "town", 1)]
    favour_second = Ranker({"after_1": 50.0})
    chosen = explain("why", units, [1.0, 0.1], 3, _asked("Why did the mayor close the bridge?"), favour_second)
    assert not chosen.explained and chosen.sentences == (0,)  # no cue anywhere: "not why", whatever the ranker says
    units[1] = Unit("He did so because the bridge was unsafe.", "town", 1)
    chosen = explain("why", units, [1.0, 0.1], 3, _asked("Why did the mayor close the bridge?"), favour_second)
    assert chosen.explained and chosen.sentences == (1, 0)


def test_the_fit_finds_the_feature_that_marks_the_answer_and_its_gradient_is_right():
    trainer = _trainer()
    rng = np.random.default_rng(7)
    marker = FEATURES.index("antecedent")
    questions = []
    for n in range(40):
        x = rng.normal(size=(6, len(FEATURES)))
        x[:, marker] = 0.0
        answer = int(rng.integers(6))
        x[answer, marker] = 1.0
        positive = np.zeros(6, bool)
        positive[answer] = True
        questions.append(trainer.Question("synthetic", "sample", x, positive, rule_first=0, eligible=np.ones(6, bool)))
    weights = trainer.fit(questions, penalty=0.01)
    assert trainer.first_right(weights, questions) == 40
    assert np.argmax(weights) == marker
    value, grad = trainer.loss(weights * 0.3, questions, 0.1)
    step = np.zeros(len(FEATURES))
    step[marker] = 1e-6
    numeric = (trainer.loss(weights * 0.3 + step, questions, 0.1)[0] - trainer.loss(weights * 0.3 - step, questions, 0.1)[0]) / 2e-6
    assert numeric == pytest.approx(grad[marker], rel=1e-4)


def test_the_config_chooses_the_learned_order_or_the_rules(tmp_path):
    assert load_settings(None).answer.explain_order == "learned"
    config = tmp_path / "config.yaml"
    config.write_text("answer:\n  explain_order: rules\n")
    assert load_settings(config).answer.explain_order == "rules"
    config.write_text("answer:\n  explain_order: neural\n")
    with pytest.raises(Exception, match="explain_order"):
        load_settings(config)
