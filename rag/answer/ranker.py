"""A learned order for explanation sentences: which sentence around the event states the reason.

The rules of rag.answer.explain score each sentence by one hand-set formula (cue strength x
closeness x event match). The evidence they combine is good; the formula is not: on questions
written apart from the system it put the reason first for about four in ten. This module keeps
the rules' evidence as features (the rule score itself, each cue, where the sentence sits
relative to the best-matching event, whether a neighbour points back at it, whether it quotes or
reports) and learns how to weigh them from why/how/after questions with known answer sentences:
a conditional logit (softmax over one question's sentences), fitted by
`scripts/train_explain_ranker.py`. Nothing in it is lexical, so it cannot learn a corpus's
sentences, only how news writing places a reason.

The weights ship as `explain_ranker.json` next to this module, with the sets they were fitted on.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.answer.cues import FLAG_NAMES, POINTS_BACK, SERVES, Asked, cue_flags, reported_claim
from rag.text import straighten_quotes

if TYPE_CHECKING:
    from rag.answer.scoring import Scoring

WEIGHTS = Path(__file__).with_name("explain_ranker.json")
NEAR_EQUAL = 0.85  # event candidates matching the question at least this share of the best one

# Where a sentence sits relative to the best-matching event (same article), in sentences; 3 or 4
# away is the baseline, further or in another article "elsewhere".
_PLACES = {-1: "before_1", -2: "before_2", 1: "after_1", 2: "after_2"}
_SHARED = ("match", "best", "self_first", "rule", "rule_top", "rule_log", "rule_2", "rule_3", "clause", "neighbour",
           "own", "asked", "length", "retrieved", "question", "quote", "reported_claim", "antecedent", "points_back",
           "serves", "before_1", "before_2", "after_1", "after_2", "elsewhere",
           "near_before_1", "near_after_1", "match_2", "match_3", "novel", "novel_words") + FLAG_NAMES
# Features whose weight differs by question kind: a copy for how and one for after questions.
_BY_KIND = ("best", "rule", "rule_log", "rule_top", "clause", "neighbour", "own", "before_1", "before_2", "after_1",
            "after_2")
FEATURES = _SHARED + tuple(f"{kind}:{name}" for kind in ("how", "after") for name in _BY_KIND)


def features(scoring: "Scoring", asked: Asked | None) -> np.ndarray:
    """One row of FEATURES per unit of `scoring` (`scoring.terms`: the question's key words)."""
    units, kind = scoring.units, scoring.kind
    index = {name: n for n, name in enumerate(FEATURES)}
    rows = np.zeros((len(units), len(FEATURES)), dtype=np.float64)
    rule_rank = {i: n for n, i in enumerate(scoring.rule_order())}
    place = {(u.doc_id, u.order): i for i, u in enumerate(units)}
    best = units[scoring.best_event]
    near_equal = [j for j, w in scoring.event_weight.items() if w >= NEAR_EQUAL]
    by_match = sorted(scoring.event_weight, key=lambda j: (-scoring.event_weight[j], j))
    match_rank = {j: n for n, j in enumerate(by_match)}
    for i, unit in enumerate(units):
        text = straighten_quotes(unit.text).strip()
        following = place.get((unit.doc_id, unit.order + 1))
        values = {
            "match": scoring.event_weight.get(i, 0.0),
            "best": float(i == scoring.best_event),
            "self_first": float(i == scoring.self_first),
            "rule": scoring.rule[i],
            "rule_top": float(rule_rank[i] == 0),
            "rule_2": float(rule_rank[i] == 1),
            "rule_3": float(rule_rank[i] == 2),
            "rule_log": float(np.log(scoring.rule[i] + 0.01)),
            "clause": scoring.cues[i].clause,
            "neighbour": scoring.cues[i].neighbour,
            "own": scoring.own[i],
            "asked": asked(unit.text) if asked is not None else 0.0,
            "length": min(1.0, len(text.split()) / 40),
            "retrieved": float(unit.can_be_event),
            "question": float(text.endswith("?")),
            "quote": float('"' in text),
            "reported_claim": float(asked is not None and reported_claim(unit.text, asked)),
            # The next sentence's subject points back at this one ("This demographic crossover...").
            "antecedent": float(following is not None and bool(POINTS_BACK.match(
                straighten_quotes(units[following].text).strip()))),
            "points_back": float(bool(POINTS_BACK.match(text))),
            "serves": float(bool(SERVES.match(text))),
            "match_2": float(match_rank.get(i) == 1),
            "match_3": float(match_rank.get(i) == 2),
            **cue_flags(text),
        }
        # What the sentence says beyond the question's words: a reason is something new.
        own_words = set(scoring.key_words(text))
        if own_words and scoring.terms:
            novel = own_words - scoring.terms
            values["novel"] = len(novel) / len(own_words)
            values["novel_words"] = min(1.0, len(novel) / 20)
        distance = unit.order - best.order if unit.doc_id == best.doc_id else None
        if distance is None or abs(distance) > 4:
            values["elsewhere"] = 1.0
        elif distance in _PLACES:
            values[_PLACES[distance]] = 1.0
        for j in near_equal:
            if j != i and units[j].doc_id == unit.doc_id:
                if units[j].order - unit.order == 1:
                    values["near_before_1"] = 1.0
                elif unit.order - units[j].order == 1:
                    values["near_after_1"] = 1.0
        if kind in ("how", "after"):
            for name in _BY_KIND:
                if name in values:
                    values[f"{kind}:{name}"] = values[name]
        for name, value in values.items():
            rows[i, index[name]] = value
    return rows


class Ranker:
    """Scores the units of one question: a softmax over `features @ weights`."""

    def __init__(self, weights: dict[str, float]) -> None:
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"ranker weights name unknown features: {sorted(unknown)}")
        self.weights = np.array([weights.get(name, 0.0) for name in FEATURES])

    def probabilities(self, scoring: "Scoring", asked: Asked | None) -> np.ndarray:
        """The probability that each unit is the sentence to put first."""
        logits = features(scoring, asked) @ self.weights
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()


@lru_cache(maxsize=1)
def default_ranker() -> Ranker | None:
    """The shipped ranker; None when its weights file is absent (the rules order alone)."""
    if not WEIGHTS.is_file():
        return None
    return Ranker(json.loads(WEIGHTS.read_text(encoding="utf-8"))["weights"])
