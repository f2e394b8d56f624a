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

import re
from dataclasses import dataclass
from typing import Callable

from rag.answer.clauses import own_reason, split_event
from rag.text import straighten_quotes

KINDS = ("why", "how", "after")
Asked = Callable[[str], float]  # text -> share of the question's words it holds

# --- question kinds -------------------------------------------------------------------------

_WHY = re.compile(
    r"\bwhy\b|\bhow come\b|\bfor what (?:reason|purpose)\b"
    r"|\bwhat (?:was|is|were|are)(?: the)? (?:reasons?|purposes?|motives?|motivations?|aims?|goals?|causes?|"
    r"rationale|explanation|point|grounds?|intention)\b"
    r"|\b(?:reasons?|motives?|motivation|purpose|rationale|explanation|cause) (?:for|of|behind)\b"
    r"|\b's (?:reasons?|purpose|motive|aim|goal)\b"
    r"|\bwhat (?:set off|caused|causes|prompted|prompts|triggered|triggers|led|leads|drove|drives|motivated|"
    r"motivates|sparked|made|makes|pushed|fuell?ed|explains?"
    # Verbs that ask what stood in the way ("what held up the release?", "what kept X from ...").
    r"|held up|holds up|delayed|delays|blocked|hindered"
    r"|(?:stopped|stops|kept|keeps|prevented|prevents) (?:\w+ ){1,6}from)\b"
    r"|\bwhat (?:was|is|were|are|lay|lies) behind\b"
    r"|\bwhat (?:[\w'-]+ ){1,6}(?:hoping|trying|aiming|seeking|meant|intended|wanting|want|wanted|hope|hoped|aim|aimed)"
    r" to (?:achieve|show|do|accomplish|gain|signal|prove|say|send)\b"
    r"|\bwhat (?:did|does|do) (?:\w+ ){1,4}(?:hope|aim|want|intend|seek|try|mean) to\b", re.I)
_AFTER = re.compile(
    r"\bwhat (?:happened|happens|followed|follows|came|comes) (?:next|after|afterwards|then|once|when|following|of)\b"
    r"|\bwhat (?:happened|happens|became) (?:to|of) .*\b(?:after|once|when|following)\b"
    r"|\bwhat did (?:\w+ ){1,5}do (?:\w+ ){0,3}(?:after|once|when|following)\b"
    r"|\bwhat (?:did|does|do|would|will) (?:\w+ ){1,5}do (?:after|once|when|following|in response|next|then|about)\b"
    r"|\bhow did (?:\w+ ){1,5}(?:respond|react|reply|answer)\b"
    r"|\bwhat (?:was|were|is|are) the (?:results?|consequences?|outcomes?|responses?|reactions?|effects?|aftermath)\b"
    r"|\b(?:in response to|as a result of)\b.*\?$", re.I)
_HOW = re.compile(
    r"\bhow (?:did|do|does|is|are|was|were|can|could|will|would|has|have|had|should|might|may|must|to)\b"
    r"(?!.*\b(?:related|connected)\b)"
    r"|\bin what (?:way|manner)\b|\bby what (?:means|method)\b|\bwhat (?:method|means|way)s? (?:did|does|do|was|were|is|are)\b",
    re.I)


def question_kind(question: str) -> str | None:
    """"why", "how" (method or manner), "after" (what happened after), or None for any other
    question. Why wins over the others ("how come"), after over how ("how did X respond")."""
    q = straighten_quotes(question).strip()
    if _WHY.search(q):
        return "why"
    if _AFTER.search(q):
        return "after"
    if _HOW.search(q):
        return "how"
    return None


# --- wording cues ---------------------------------------------------------------------------

def _words(pattern: str) -> re.Pattern:
    return re.compile(rf"\b(?:{pattern})\b", re.I)


# Connectives that state a cause or a purpose outright.
_CAUSAL = _words(
    r"because|(?<!was )(?<!were )(?<!is )(?<!are )(?<!be )due to|owing to|as a result of|in response"
    r"|in retaliation|in protest|in reaction|aimed at|aims? to|aiming to|in order to|so that|so as to|to avoid"
    r"|the reasons?|reasons? (?:for|why|behind)|for (?:this|that) reason"
    r"|(?:was|were|is|are|being|be) (?:seen|viewed|regarded|perceived|interpreted) as"
    r"|driven by|motivated by|fuell?ed by|fearing|for fear"
    r"|out of fear|the (?:goal|aim|purpose|objective|intention|motive) (?:was|is|of)|intended to|meant to"
    r"|designed to|want(?:ed|s)? to|sought to|seeking to|seeks to|in an effort to|in a bid to"
    r"|only (?:after|when|if|once)"
    r"|(?:in )?an attempt to|a message to|to show|to send|to demonstrate|to signal|for the sake of")
_CONSEQUENCE_OPENER = re.compile(r"^(?:and |but |so )?(?:therefore|hence|consequently|thus|so|as a result)\b(?! of)", re.I)
# Verbs with the cause before them and the effect after ("the retirement prompted Sadr to ..."):
# a cause of the question's event only when the event is what follows the verb.
_FORWARD = _words(
    r"led to|leads? to|leading to|prompt(?:ed|ing|s)|caus(?:ed|ing|es)|trigger(?:ed|ing|s)|spark(?:ed|ing|s)"
    r"|resulted in|result(?:ing|s)? in|forc(?:ed|ing|es)"
    # Consequence connectives: what comes before them is the cause ("X, and therefore Y").
    r"|therefore|hence|consequently|thus|as a result(?! of)")
# Wording that often, not always, gives a cause ("the burden caused by the influx" does not).
_LOOSELY_CAUSAL = _words(
    r"fuell?ed|fears? (?:of|that)|amid|thanks to"
    r"|given that|in light of|on the grounds|citing|blam(?:ed|ing|es)|attributed to|stem(?:med|s|ming)? from"
    r"|to prevent(?:ing)?|to ensur(?:e|ing)|resulted in|result of|responsible for|behind (?:the|this|that|it)"
    r"|, as (?:we|they|he|she|it|there|the|this|these|those|his|her|their|our|its)")
_TEMPORAL = re.compile(
    r"\b(?:after|since|once)\b"
    r"|(?<!\bthe )\bfollowing\b(?! (?:response|statement|year|day|week|month|text|list|way|words?)\b)", re.I)
# ", to hold them accountable": a purpose clause (not ", to the ...", ", to be ...").
_PURPOSE_CLAUSE = re.compile(
    r",\s+(?:in order )?to (?!(?:the|a|an|his|her|their|its|this|that|these|those|be|date|him|them|me|us)\b)[a-z]{3,}",
    re.I)
_REPORTED = _words(
    r"told|according to|said|says|explained|explains|stated|states|noted|added|argued|claimed|insisted"
    r"|believed?|believes|described|warned|acknowledged|admitted|suggested|maintained|alleged|saying")
# A sentence that looks back at what was just told and says what it was ("That was an explicit
# threat...", "This was the best punishment..."): a characterisation, often the explanation.
_LOOKS_BACK = re.compile(r"""^["'(]*(?:this|that|it) (?:was|is|had been|has been|were)\b""", re.I)
# A sentence whose subject points back at what was just told ("This is a multiplier of threats...",
# "Such stagnation blocks...", "That allowed..."): what it points at, the sentence before it, is the
# content of its claim, so for a why question about it that sentence is the reason.
_POINTS_BACK = re.compile(
    r"""^["'(]*(?:this|that|these|those|such)\b(?! (?:is|was) (?:why|how|what|when|where)\b)""", re.I)
# A sentence right after the event whose subject points back at it and says what it serves ("This
# helps to alleviate the burden...", "That allows them to..."): the purpose of the event, so for a
# why question it is scored as a clause of the event sentence (the mirror of _POINTS_BACK).
_SERVES = re.compile(
    r"""^["'(]*(?:this|that|it|doing so|such \w+)(?: \w+)? (?:helps?|helped|allows?|allowed|enables?|enabled|ensures?"""
    r"""|ensured|serves?|served|aims?|aimed|saves?|saved|avoids?|avoided|prevents?|prevented|reduces?|reduced"""
    r"""|(?:is|was|are|were) (?:meant|intended|designed|aimed|done) to)\b""", re.I)
# A reported claim ("a commander told MEE that the fighters were believed to be defecting",
# "according to the aide, whoever was behind it wanted..."): group 1 is what was reported.
_REPORTED_CLAIM = re.compile(
    r"\b(?:told [A-Z][\w.]*(?: [A-Z][\w.]*)*|told (?:reporters|journalists|us|him|her|them)|said|says|explained|"
    r"believed?|believes|added|insisted|claimed|stressed|noted) that (.+)"
    r"|^\W*according to [^,]{3,60}, (.+)", re.I)
# A reported claim about what the question names, right after the event: how news reports a reason
# (MEE: "...ordered the expulsion of 18 fighters. A commander told MEE that the fighters were
# believed to be defecting"). Scored as a causal neighbour.
_REPORTED_REASON = 0.8
_MANNER = _words(
    r"by [a-z]+ing|by means of|through|using|via|with the help of|the way|method|methods"
    r"|relying on|thanks to|instead|in (?:a|an) (?:[a-z]+ ){1,3}(?:manner|way|fashion)")
# What an event led to, said in the sentence reporting it ("the retirement prompted Sadr to ...").
_LED_TO = _words(
    r"prompt(?:ed|ing|s)|led to|leading to|resulted in|result(?:ing)? in|forc(?:ed|ing)|caus(?:ed|ing)|in response"
    r"|as a result|trigger(?:ed|ing)|spark(?:ed|ing)|so that|therefore|consequently")
# Wording of what came next.
_CONSEQUENCE = _words(
    r"then|later|afterwards|subsequently|since then|in response|as a result|response|responded|react(?:ed|ion)"
    r"|decided|ordered|announced|cancell?ed|suspended|closed|withdr[ae]w|resigned|eventually|ended"
    r"|consequently|soon|the next day|ever since|since that|instead|however")


@dataclass(frozen=True)
class Cues:
    """How strongly a sentence's wording explains something, 0 to 1.

    `clause`: wording that makes the sentence explain its own event (a causal or purpose
    clause); `neighbour`: wording that makes it explain an event in a nearby sentence (the
    clause cues, plus reported explanations).
    """

    clause: float
    neighbour: float


def _combine(*weights: float) -> float:
    """Independent evidence: 1 - prod(1 - w)."""
    rest = 1.0
    for w in weights:
        rest *= 1.0 - w
    return 1.0 - rest


def cues(sentence: str, kind: str, asked: Asked | None = None) -> Cues:
    """The cue strengths of one sentence for a question of this kind (why, how, after).

    `asked(text)` is the share of the question's words in a text: it tells which side of "X
    prompted Y" the question is about (a cause of Y, a consequence of X). Without it such
    verbs count as loose cues.
    """
    text = straighten_quotes(sentence).strip()
    if text.endswith("?"):
        return Cues(0.0, 0.0)  # a question raises a reason, it does not give one
    reported = 0.35 if _REPORTED.search(text) else 0.0
    forward = _FORWARD.search(text)
    # Which side of "X prompted Y" the question is about: +1 the effect Y (the sentence gives
    # its cause), -1 only the cause X (the sentence tells what X led to), 0 unknown.
    side, cause_named = 0, True
    if forward and asked is not None:
        cause, effect = text[:forward.start()], text[forward.end():]
        if effect.lstrip().lower().startswith("by "):
            cause, effect = effect, cause  # passive: "the burden caused by the influx"
        side = 1 if asked(effect) > 0 else -1 if asked(cause) > 0 else 0
        cause_named = asked(cause) > 0
    if kind == "why":
        causal = 1.0 if _CAUSAL.search(text) else 0.0
        if forward:
            causal = max(causal, {1: 1.0, 0: 0.3 if asked is not None else 0.6, -1: 0.0}[side])
        if _LOOSELY_CAUSAL.search(text):
            causal = max(causal, 0.6)
        temporal = 0.5 if _TEMPORAL.search(text) else 0.0
        purpose = 0.8 if _PURPOSE_CLAUSE.search(text) else 0.0
        clause = _combine(causal, temporal, purpose)
        looks_back = 0.5 if _LOOKS_BACK.match(text) else 0.0
        return Cues(clause, _combine(clause, reported, looks_back))
    if kind == "how":
        # The manner is often in the sentence right after the event, worded like any narration.
        manner = 0.8 if _MANNER.search(text) else 0.0
        return Cues(manner, _combine(manner, 0.5))
    if kind == "after":
        # Any sentence after the event may tell what followed; some say so.
        # "X prompted Y" tells what followed X when the question names X.
        led_to = 0.8 if _LED_TO.search(text) and cause_named else 0.0
        return Cues(led_to, _combine(0.8 if _CONSEQUENCE.search(text) else 0.0, 0.6))
    raise ValueError(f"unknown question kind {kind!r}")


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
    """Indices into the units: `sentences` in answer order (explanations first, the event
    last); `event` is the sentence matching the question; `explained` is False when no
    sentence near the event explains it (then `sentences` is the event alone)."""

    sentences: tuple[int, ...]
    event: int
    explained: bool


# How far (in sentences) an explanation may sit from its event, and what distance costs.
# News sets a consequence up before stating it, so "before" reaches further for why and how;
# what happened after lies after.
_WINDOW = {"why": (4, 2), "how": (1, 2), "after": (0, 4)}
_BEFORE_COST = {"why": 0.1, "how": 0.2, "after": 1.0}
_AFTER_COST = {"why": 0.4, "how": 0.1, "after": 0.1}
# An explanation in the event's own sentence is the most direct; one in another sentence counts less.
_NEIGHBOUR = 0.7
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


def own_clause(text: str, kind: str, asked: Asked | None, whole: float) -> float:
    """How strongly a sentence explains its own event (`whole`: its clause cue as a whole).

    For why questions with the question's words known, only the part of the sentence that is not
    what the question names counts (rag.answer.clauses): its shape (an adjunct clause, a fronted
    participle, a purpose infinitive) or causal wording in it. A causal word inside the event's
    own clause ("the returns, as reported in the media, ...") is weaker evidence: it counts at a
    neighbour's weight.
    """
    if kind != "why" or asked is None:
        return whole
    parts, core, rest = split_event(text, asked)
    # A clause after the event opened by a consequence connective (", and therefore working
    # with...") tells what the event led to, not why it happened.
    rest = [i for i in rest if not (i > core and _CONSEQUENCE_OPENER.match(parts[i]))]
    listed = cues(" ".join(parts[i] for i in rest), kind, asked).clause if rest else 0.0
    return max(own_reason(text, asked), listed, whole * _NEIGHBOUR)


def reported_claim(sentence: str, asked: Asked) -> bool:
    """True when the sentence reports a claim ("X told MEE that ...", "according to X, ...") and
    the claim itself holds some of the question's words (it is about what the question names)."""
    found = _REPORTED_CLAIM.search(straighten_quotes(sentence))
    return bool(found) and asked(found.group(1) or found.group(2) or "") > 0


def _closeness(kind: str, distance: int) -> float:
    """Weight of a sentence `distance` sentences after (positive) or before (negative) the event."""
    before, after = _WINDOW[kind]
    if distance == 0:
        return 1.0
    if distance < 0:
        return _NEIGHBOUR * (1.0 - _BEFORE_COST[kind] * -distance) if -distance <= before else 0.0
    return _NEIGHBOUR * (1.0 - _AFTER_COST[kind] * distance) if distance <= after else 0.0


def explain(kind: str, units: list[Unit], relevance: list[float], max_sentences: int,
            asked: Asked | None = None) -> Explanation | None:
    """Choose the explanation sentences and the event (indices into `units`), best first.

    `relevance[i]` is how well unit i matches the question (any scale, higher is better; only
    units that `can_be_event` count). A unit's explanation score is its cue strength times its
    closeness to an event candidate times how well that candidate matches the question, best
    over the candidates. `asked` as for `cues`. None when there are no event candidates.
    """
    events = [i for i, u in enumerate(units) if u.can_be_event]
    top = max((relevance[i] for i in events), default=0.0)
    if top <= 0:
        return None
    event_weight = {i: max(0.0, relevance[i] / top) for i in events}
    best_event = max(events, key=lambda i: (event_weight[i], -i))
    by_doc: dict[str, list[int]] = {}
    for i in events:
        by_doc.setdefault(units[i].doc_id, []).append(i)

    def near(i: int) -> list[tuple[float, int]]:
        """(closeness, event) for the event candidates that unit i may explain."""
        found = []
        for j in by_doc.get(units[i].doc_id, ()):
            closeness = _closeness(kind, units[i].order - units[j].order)
            if closeness > 0:
                found.append((closeness, j))
        return found

    unit_cues = [cues(unit.text, kind, asked) for unit in units]
    own = [own_clause(unit.text, kind, asked, unit_cues[i].clause) for i, unit in enumerate(units)]
    scores: list[tuple[float, int]] = []
    for i, unit in enumerate(units):
        score = 0.0
        for closeness, j in near(i):
            distance = unit.order - units[j].order
            if distance == 0:
                cue = own[i]
            else:
                setup = _SETUP if kind == "why" and -2 <= distance < 0 else 0.0
                # An event that gives its own reason needs a neighbour's less: the neighbour must
                # beat the event sentence's own clause, not merely carry a causal word.
                cue = _combine(unit_cues[i].neighbour, setup) * (1.0 - _EXPLAINED_AWAY * own[j])
                if kind == "why" and distance == -1 and _POINTS_BACK.match(straighten_quotes(units[j].text)):
                    # What the event sentence's subject points at: a part of that sentence.
                    cue, closeness = max(cue, _ANTECEDENT), 1.0
                if kind == "why" and distance == 1 and _SERVES.match(straighten_quotes(unit.text)):
                    cue, closeness = max(cue, _ANTECEDENT), 1.0
                if kind == "why" and abs(distance) == 1 and asked is not None and reported_claim(unit.text, asked):
                    cue, closeness = max(cue, _REPORTED_REASON * (1.0 - _EXPLAINED_AWAY * own[j])), _NEIGHBOUR
            score = max(score, cue * closeness * event_weight[j])
        if not unit.can_be_event:
            score *= _NOT_RETRIEVED
        scores.append((score, i))
    # The sentence that best matches the question and gives its own reason is the answer: another
    # sentence may come first only when the event's sentence adds no reason beyond what the
    # question names (its best weight is 1, so its own score is own[best_event]).
    # Several sentences may match the question almost equally well (retrieval ranks and shared
    # words decide little between them); among those, the one that also gives its own reason is
    # the event the question names, so the joint score (own reason x match) picks it.
    self_first = None
    if kind == "why":
        close = [i for i in events if event_weight[i] >= NEAR_TOP_EVENT and own[i] >= MIN_EXPLANATION]
        if close:
            self_first = max(close, key=lambda i: (own[i] * event_weight[i], event_weight[i], -i))
    scores.sort(key=lambda s: (s[1] != self_first, -s[0], s[1]))
    first_score, first = scores[0]
    if first_score < MIN_EXPLANATION:
        return Explanation((best_event,), best_event, False)
    # The event it explains: the sentence around it that best matches the question.
    event = max(near(first), key=lambda cj: (event_weight[cj[1]], cj[0]))[1]
    window = {j for _, j in near(first)} | {first}
    chosen = [first]
    for score, i in scores[1:]:
        if len(chosen) >= max_sentences - (event not in chosen):
            break
        if score < max(MIN_EXPLANATION, SECOND_EXPLANATION * first_score) or i == event:
            continue
        if any(j in window for _, j in near(i)):
            chosen.append(i)
    if event not in chosen:
        chosen.append(event)
    return Explanation(tuple(chosen[:max_sentences]), event, True)
