"""Why, how and what-happened-after questions: find the event the question names, then the
sentences that explain it.

A question asking why something happened is not answered by the sentence reporting that it
happened. News writing gives the reason in a few predictable places: in a clause of the event
sentence itself ("...retired due to illness"), in a reported explanation next to it ("the aide
told MEE that..."), or in the sentences just before it, which set up the consequence. So:

1. every sentence gets an *event* relevance: how well it matches the question (meaning and
   words), computed by the caller;
2. every sentence gets a *cue* strength from its wording: causal connectives ("because",
   "due to", "aimed at", "was seen as"...), softer temporal ones ("after", "following"),
   reported explanations ("told", "according to"), a purpose clause (", to hold...");
3. a sentence explains the event when it has a cue and sits near a sentence that matches the
   question (itself, for a causal clause; a few sentences before or after in the same article
   otherwise). The best such sentence comes first, the event after it.

Four shapes found by studying the failures (each a property of news wording, none of a question):
- several sentences often match the question almost equally well; among those, the one that also
  gives its own reason is the event the question names (the joint score own reason x match picks
  it, instead of the single best match);
- consequence connectives ("X, and therefore Y", "hence", "as a result,") point forward: what
  follows them is what the event led to, never its reason;
- a reported claim about what the question names next to the event ("a commander told MEE that
  the fighters were believed to be defecting", "according to the aide, ...") is a reported reason;
- a sentence right after the event saying what it serves ("This helps to alleviate...") is its
  purpose.

When nothing near the event explains it, the caller says so instead of presenting the event as
its own cause. "how" questions look for manner wording ("by ...ing", "through", "using") and
"what happened after" questions for the sentences that follow the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from rag.answer.cues import (
    POINTS_BACK, SERVES, REPORTED_REASON, NEIGHBOUR as _NEIGHBOUR, Asked, Cues, combine, cues, own_clause,
    question_kind, reported_claim,
)
from rag.text import keyword_tokens, straighten_quotes

if TYPE_CHECKING:
    from rag.answer.ranker import Ranker

__all__ = ["Explanation", "Unit", "cues", "explain", "question_kind"]


# --- choosing the explanation ---------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """A sentence with its place: its article, its order in the article (`order`: consecutive
    sentences differ by 1), and whether it may be the event (a sentence of a retrieved passage)."""

    text: str
    doc_id: str
    order: int
    can_be_event: bool = True


@dataclass(frozen=True)
class Explanation:
    """Indices into the units: `sentences` in answer order (the explanation first; the event
    last with the rules' order, at its rank in the ranker's); `event` is the sentence matching the
    question; `explained` is False when no sentence near the event explains it (then `sentences`
    is the event alone)."""

    sentences: tuple[int, ...]
    event: int
    explained: bool


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


def explain(kind: str, units: list[Unit], relevance: list[float], max_sentences: int,
            asked: Asked | None = None, ranker: "Ranker | None" = None,
            terms: frozenset[str] = frozenset(), key_words: Callable[[str], list[str]] = keyword_tokens,
            significance: bool = False) -> Explanation | None:
    """Choose the explanation sentences and the event (indices into `units`), best first.

    `relevance[i]` is how well unit i matches the question (any scale, higher is better; only
    units that `can_be_event` count). A unit's rule score is its cue strength times its
    closeness to an event candidate times how well that candidate matches the question, best
    over the candidates. `asked` as for `cues`; `terms` the question's key words, made by
    `key_words`; `significance` as for `score_units`. The rules decide whether anything explains the
    event; `ranker` (rag.answer.ranker), when given, orders the units from the rule scores and
    their other features, else the rule scores do. None when there are no event candidates.
    """
    scoring = score_units(kind, units, relevance, asked, terms, key_words, significance)
    if scoring is None:
        return None
    rule_order = scoring.rule_order()
    if scoring.rule[rule_order[0]] < MIN_EXPLANATION:
        return Explanation((scoring.best_event,), scoring.best_event, False)
    # A further sentence must score this much by the rules; None: any of the ranker's next choices.
    floor: float | None
    if ranker is None:
        order, floor = rule_order, max(MIN_EXPLANATION, SECOND_EXPLANATION * scoring.rule[rule_order[0]])
    else:
        probability = ranker.probabilities(scoring, asked)
        order, floor = sorted(range(len(units)), key=lambda i: (-probability[i], i)), None
    first = order[0]
    # The event it explains: the sentence around it that best matches the question.
    around = scoring.near(first)
    event = max(around, key=lambda cj: (scoring.event_weight[cj[1]], cj[0]))[1] if around else scoring.best_event
    window = {j for _, j in around} | {first}
    chosen = [first]
    if ranker is not None and not scoring.may_come_first()[first] and rule_order[0] != first:
        # The ranker trusts the event's own sentence to hold its reason in wording the cues miss;
        # the explanation the rules found follows it, so the answer never stops at the event.
        chosen.append(rule_order[0])
    # Then the ranker's next choices wherever they sit (it holds the reason in its top three far
    # more often than first), or the rules' further explanations near the event; the event always.
    for i in order[1:]:
        if len(chosen) >= max_sentences - (event not in chosen):
            break
        if i == event or i in chosen:
            continue
        if floor is None or (scoring.rule[i] >= floor and any(j in window for _, j in scoring.near(i))):
            chosen.append(i)
    if event not in chosen:
        chosen.append(event)
    return Explanation(tuple(chosen[:max_sentences]), event, True)
