"""The part of an event sentence that is not the event: where a sentence gives its own reason.

"Frustrated by his inability to form a government, Sadr ordered his MPs to resign" answers
"why did Sadr order his MPs to resign?" by itself, though no causal word is in it. What gives
it away is structure, not vocabulary: the sentence splits into the clause the question names
(the *core*: the clause holding most of the question's words) and the rest, and the rest is an
adjunct — a clause opened by a subordinator ("because", "as we...", "after"), a participle
fronted before the subject ("Frustrated by...", "Fearing..."), a purpose infinitive (", to hold
..."), or a trailing participle (", fearing reprisals", ", driven by..."). A rest that is another
main clause of the same sentence (", ordered his offices closed, and suspended...") adds other
events, not a reason; a rest that only says who said it ("the aide said") adds nothing.

`own_reason(sentence, asked)` scores that rest, 0 to 1.
"""

from __future__ import annotations

import re
from typing import Callable

from rag.text import straighten_quotes

Asked = Callable[[str], float]  # text -> share of the question's words it holds

# Clause boundaries: punctuation, and the subordinators that open a reason without a comma.
_BOUNDARY = re.compile(
    r"\s*[,;:]\s+|\s+[—–]\s+|\s+-{1,2}\s+"
    r"|(?<!\bwas)(?<!\bwere)(?<!\bis)(?<!\bare)(?<!\bbe)\s+(?=due to\b)"  # not "he was due to head to Kufa"
    r"|\s+(?=by [a-z]{2,}ing\b)"  # "embarrassed Sadr by associating him with Khamenei": the means
    r"|\s+(?=(?:because|owing to|so that|in order to|for fear|in an effort to|in a bid to"
    r"|as a result of|in response to|in retaliation|in protest|(?:only )?after|only (?:when|once|if))\b)", re.I)
_FIRST_WORDS = re.compile(r"^[\"'(\[]*([A-Za-z]+)(?:\s+([A-Za-z]+))?")

# Openers of an adjunct clause, by how directly such a clause gives a reason when it is not the
# event itself. Closed-class words (subordinators, prepositions), not topic vocabulary.
_CAUSAL_OPENERS = {"because", "since", "as", "given", "due", "owing", "for", "thanks", "out", "so", "lest"}
_PURPOSE_OPENERS = {"to", "in"}  # ", to hold them accountable"; "in order to", "in a bid to"
_TEMPORAL_OPENERS = {"after", "following", "once", "when", "amid", "with", "upon", "having", "until", "only"}
# "On 6 May", "In 2019", "Last week": when, not why.
_DATE = re.compile(r"\d|\b(?:january|february|march|april|may|june|july|august|september|october|november|"
                   r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|week|"
                   r"month|year|morning|evening|night)\b", re.I)
_CONTRAST_OPENERS = {"while", "although", "though", "whereas", "despite"}
_COORDINATORS = {"and", "but", "or", "nor", "then", "yet", "which", "who", "whom", "whose", "where", "that"}
_NOT_PARTICIPLES = {"according", "including", "saying", "adding", "noting", "during", "regarding", "concerning",
                    "following", "speaking", "writing", "referring", "something", "nothing", "anything", "everything",
                    "morning", "evening",
                    "thing", "king", "being", "bring", "spring", "string", "ring", "sing", "ceiling"}
# A fronted past participle followed by one of these names what acted on the subject
# ("frustrated by", "angered at", "alarmed over").
_CAUSE_PREPOSITIONS = {"by", "at", "with", "over", "about", "from"}
_ATTRIBUTION = re.compile(
    r"\b(?:said|says|told|tells|added|adds|explained|noted|stated|according to|reported|claimed|insisted|"
    r"wrote|stressed|recalled|confirmed|announced)\b", re.I)
_PRONOUN_SUBJECT = {"i", "we", "you", "he", "she", "it", "they", "there", "this", "these", "those", "the", "his",
                    "her", "their", "our", "its", "my"}
_MIN_WORDS = 2  # a shorter piece ("However,") joins the next one
_MIN_REASON_WORDS = 3  # a reason says something: "In response" alone does not


def clauses(sentence: str) -> list[str]:
    """The sentence cut at clause boundaries (punctuation, reason subordinators); one-word pieces
    are joined to the next one."""
    text = straighten_quotes(sentence).strip()
    pieces = [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}".strip() if carry else piece
        if len(piece.split()) < _MIN_WORDS:
            carry = piece
            continue
        merged.append(piece)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    return merged


def _opener(clause: str) -> tuple[str, str]:
    found = _FIRST_WORDS.match(clause)
    if not found:
        return "", ""
    return found.group(1).lower(), (found.group(2) or "").lower()


def _is_attribution(clause: str) -> bool:
    """"the aide said", "he told MEE", "according to the aide": who said it, nothing more."""
    return len(clause.split()) <= 8 and bool(_ATTRIBUTION.search(clause))


def adjunct_strength(clause: str, fronted: bool, opens_sentence: bool = False) -> float:
    """How directly a clause that is not the event gives a reason for it, from its shape:
    its first words, whether it comes before the event's clause (`fronted`) and whether it
    opens the sentence (a participle there comes before the subject: an adjunct; after a comma
    later on it is as likely another verb of a list: "cancelled X, ordered Y")."""
    first, second = _opener(clause)
    words = len(clause.split())
    if not first or words < _MIN_REASON_WORDS or _is_attribution(clause) or (words <= 5 and _DATE.search(clause)):
        return 0.0
    if first in _COORDINATORS:
        return 0.0
    if first == "as" and second in {"well", "a", "an", "the", "of", "part", "for", "many", "much", "soon", "long",
                                    "reported", "such", "far", "if", "usual", "in"}:
        return 0.0  # "as well as", "as a result" is counted by the cue list, "as reported"
    if first in _CAUSAL_OPENERS:
        if first == "for" and second not in {"fear", "being", "having"}:  # not "for the first time"
            return 0.0
        if first == "so" and second != "that":
            return 0.0
        if first == "since" and second.isdigit():
            return 0.0
        return 1.0
    if first in _PURPOSE_OPENERS:
        if first == "in" and second not in {"order", "a", "an", "response", "retaliation", "protest", "reaction"}:
            return 0.0
        if first == "to" and (second in _PRONOUN_SUBJECT or second in {"be", "date", "him", "them", "me", "us"}):
            return 0.0
        return 0.8
    if first in _TEMPORAL_OPENERS:
        if first == "only" and second not in {"after", "when", "once", "if"}:
            return 0.0
        if first == "only":
            return 0.9  # "only after the case received media attention": the condition that made it happen
        if first in {"on", "with", "upon", "until"} and not fronted:
            return 0.0
        return 0.6 if fronted else 0.5
    if first == "by" and second.endswith("ing") and second not in _NOT_PARTICIPLES:
        return 0.6  # the means by which the event came about: what made it so, for a why question
    if first == "whether" and second == "to":
        return 0.8  # "Whether to share the burden or seek help, women share their stories"
    if first == "on" and second in {"charges", "charge", "grounds", "suspicion", "accusations", "behalf"}:
        return 1.0  # 'on charges of "treason"'
    if first in _CONTRAST_OPENERS:
        return 0.4
    participle = first not in _NOT_PARTICIPLES and len(first) > 4 and (
        first.endswith(("ing", "ed")) or (first.endswith("en") and second == "by"))
    if participle:
        if opens_sentence and (first.endswith("ing") or second in _CAUSE_PREPOSITIONS):
            return 0.9  # "Frustrated by his inability...", "Fearing reprisals, ..."
        if opens_sentence:
            return 0.5  # "Based in Qom, ...": as often a description of the subject as a reason
        if first.endswith("ing") or second == "by":
            return 0.7  # ", fearing reprisals", ", driven by anger"
    return 0.0  # another main clause: another event, not a reason


def own_reason(sentence: str, asked: Asked) -> float:
    """How strongly the part of `sentence` that is not what the question names gives a reason
    for it: the best adjunct among the clauses other than the core (the clause holding most of
    the question's words; clauses holding as many of them as the core are part of it)."""
    parts, core, rest = split_event(sentence, asked)
    return max((adjunct_strength(parts[i], fronted=i < core, opens_sentence=i == 0) for i in rest), default=0.0)


def split_event(sentence: str, asked: Asked) -> tuple[list[str], int, list[int]]:
    """(clauses, the core's index, the indices of the rest): the core is the clause holding
    most of the question's words; clauses holding more than half as many belong to the event
    too and are not in the rest. No rest when the sentence is one clause or holds none of the
    question's words."""
    # Who said it ("the aide told MEE") is neither the event nor its reason.
    parts = [p for p in clauses(sentence) if not _is_attribution(p)] or clauses(sentence)
    shares = [asked(p) for p in parts]
    if len(parts) < 2 or max(shares) <= 0:
        return parts, 0, []
    core = max(range(len(parts)), key=lambda i: (shares[i], -i))
    return parts, core, [i for i in range(len(parts)) if i != core and shares[i] <= 0.5 * shares[core]]
