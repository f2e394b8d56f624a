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

from rag.answer.cues import Asked, cues, question_kind
from rag.answer.scoring import MIN_EXPLANATION, SECOND_EXPLANATION, Unit, score_units
from rag.text import keyword_tokens

if TYPE_CHECKING:
    from rag.answer.ranker import Ranker

__all__ = ["Explanation", "Unit", "cues", "explain", "question_kind"]


# --- choosing the explanation ---------------------------------------------------------------

@dataclass(frozen=True)
class Explanation:
    """Indices into the units: `sentences` in answer order (the explanation first; the event
    last with the rules' order, at its rank in the ranker's); `event` is the sentence matching the
    question; `explained` is False when no sentence near the event explains it (then `sentences`
    is the event alone)."""

    sentences: tuple[int, ...]
    event: int
    explained: bool


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
