"""The rules' scores of the sentences around a why/how/after question's event: which sentence is
the event, how close each other sentence is to it, and how strongly each states its reason,
manner or consequence (rag.answer.cues). rag.answer.explain chooses the answer from them; the
learned ranker (rag.answer.ranker) reads them as features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rag.answer.cues import (
    POINTS_BACK, SERVES, REPORTED_REASON, NEIGHBOUR as _NEIGHBOUR, Asked, Cues, combine, cues, own_clause,
    reported_claim,
)
from rag.text import keyword_tokens, straighten_quotes

@dataclass(frozen=True)
class Unit:
    """A sentence with its place: its article, its order in the article (`order`: consecutive
    sentences differ by 1), and whether it may be the event (a sentence of a retrieved passage)."""

    text: str
    doc_id: str
    order: int
    can_be_event: bool = True


# How far (in sentences) an explanation may sit from its event, and what distance costs.
# News sets a consequence up before stating it, so "before" reaches further for why and how;
# what happened after lies after.
_WINDOW = {"why": (4, 2), "how": (1, 2), "after": (0, 4)}
_BEFORE_COST = {"why": 0.1, "how": 0.2, "after": 1.0}
_AFTER_COST = {"why": 0.4, "how": 0.1, "after": 0.1}
# A sentence the search did not return is less likely to be what the question is about.
_NOT_RETRIEVED = 0.9
# Sentences just before the event set up its reason (why only): weak evidence on their own, added
# to other cues.
_SETUP = 0.25
# The sentence just before an event sentence whose subject points back at it ("This is a
# multiplier of threats", "Such stagnation blocks..."): what the event sentence is about, scored as
# a clause of it.
_ANTECEDENT = 0.8
# How much an event sentence's own reason clause discounts its neighbours' claims to explain it.
_EXPLAINED_AWAY = 0.5
# Event candidates matching the question at least this share of the best one are near equals.
NEAR_TOP_EVENT = 0.85
MIN_EXPLANATION = 0.3  # below this nothing explains the event
SECOND_EXPLANATION = 0.6  # a further explanation must score this share of the best one


def _closeness(kind: str, distance: int) -> float:
    """Weight of a sentence `distance` sentences after (positive) or before (negative) the event."""
    before, after = _WINDOW[kind]
    if distance == 0:
        return 1.0
    if distance < 0:
        return _NEIGHBOUR * (1.0 - _BEFORE_COST[kind] * -distance) if -distance <= before else 0.0
    return _NEIGHBOUR * (1.0 - _AFTER_COST[kind] * distance) if distance <= after else 0.0


@dataclass
class Scoring:
    """What the rules know about each unit for one question: how well each event candidate
    matches it (`event_weight`, event candidates only), the best one, each unit's rule score (cue
    x closeness x event match, best over the candidates near it), its cues and own-reason
    strength, and the event that gives its own reason among near-equal matches (`self_first`)."""

    kind: str
    units: list[Unit]
    event_weight: dict[int, float]
    best_event: int
    by_doc: dict[str, list[int]]
    rule: list[float]
    cues: list[Cues]
    own: list[float]
    self_first: int | None
    terms: frozenset[str] = frozenset()  # the question's key words, as `key_words` makes them
    key_words: Callable[[str], list[str]] = keyword_tokens  # a text's key words (the index's stemming)

    def near(self, i: int) -> list[tuple[float, int]]:
        """(closeness, event) for the event candidates that unit i may explain."""
        found = []
        for j in self.by_doc.get(self.units[i].doc_id, ()):
            closeness = _closeness(self.kind, self.units[i].order - self.units[j].order)
            if closeness > 0:
                found.append((closeness, j))
        return found

    def may_come_first(self) -> list[bool]:
        """Whether each unit may open the answer: not an event (a near-best match to the
        question) that gives no reason of its own."""
        return [not (self.event_weight.get(i, 0.0) >= NEAR_TOP_EVENT and self.own[i] < MIN_EXPLANATION)
                for i in range(len(self.units))]

    def rule_order(self) -> list[int]:
        """Units by rule score, the self-explaining event first."""
        return sorted(range(len(self.units)), key=lambda i: (i != self.self_first, -self.rule[i], i))


def score_units(kind: str, units: list[Unit], relevance: list[float], asked: Asked | None = None,
                terms: frozenset[str] = frozenset(), key_words: Callable[[str], list[str]] = keyword_tokens,
                significance: bool = False) -> Scoring | None:
    """The rule scores of every unit (see `explain`); None when there are no event candidates.
    `terms`: the question's key words and `key_words` how they were made (for the ranker);
    `significance`: a why question asking what sets something apart (rag.answer.cues)."""
    events = [i for i, u in enumerate(units) if u.can_be_event]
    top = max((relevance[i] for i in events), default=0.0)
    if top <= 0:
        return None
    event_weight = {i: max(0.0, relevance[i] / top) for i in events}
    best_event = max(events, key=lambda i: (event_weight[i], -i))
    by_doc: dict[str, list[int]] = {}
    for i in events:
        by_doc.setdefault(units[i].doc_id, []).append(i)
    unit_cues = [cues(unit.text, kind, asked, significance) for unit in units]
    own = [own_clause(unit.text, kind, asked, unit_cues[i].clause, significance) for i, unit in enumerate(units)]
    scoring = Scoring(kind, units, event_weight, best_event, by_doc, [], unit_cues, own, None, frozenset(terms),
                      key_words)
    for i, unit in enumerate(units):
        score = 0.0
        for closeness, j in scoring.near(i):
            distance = unit.order - units[j].order
            if distance == 0:
                cue = own[i]
            else:
                setup = _SETUP if kind == "why" and -2 <= distance < 0 else 0.0
                # An event that gives its own reason needs a neighbour's less: the neighbour must
                # beat the event sentence's own clause, not merely carry a causal word.
                cue = combine(unit_cues[i].neighbour, setup) * (1.0 - _EXPLAINED_AWAY * own[j])
                if kind == "why" and distance == -1 and POINTS_BACK.match(straighten_quotes(units[j].text)):
                    # What the event sentence's subject points at: a part of that sentence.
                    cue, closeness = max(cue, _ANTECEDENT), 1.0
                if kind == "why" and distance == 1 and SERVES.match(straighten_quotes(unit.text)):
                    cue, closeness = max(cue, _ANTECEDENT), 1.0
                if kind == "why" and abs(distance) == 1 and asked is not None and reported_claim(unit.text, asked):
                    cue, closeness = max(cue, REPORTED_REASON * (1.0 - _EXPLAINED_AWAY * own[j])), _NEIGHBOUR
            score = max(score, cue * closeness * event_weight[j])
        if not unit.can_be_event:
            score *= _NOT_RETRIEVED
        scoring.rule.append(score)
    # The sentence that best matches the question and gives its own reason is the answer: another
    # sentence may come first only when the event's sentence adds no reason beyond what the
    # question names (its best weight is 1, so its own score is own[best_event]).
    # Several sentences may match the question almost equally well (retrieval ranks and shared
    # words decide little between them); among those, the one that also gives its own reason is
    # the event the question names, so the joint score (own reason x match) picks it.
    if kind == "why":
        close = [i for i in events if event_weight[i] >= NEAR_TOP_EVENT and own[i] >= MIN_EXPLANATION]
        if close:
            scoring.self_first = max(close, key=lambda i: (own[i] * event_weight[i], event_weight[i], -i))
    return scoring
