"""The wording that explains: question kinds (why, how, what happened after) and the cue
strength of a sentence's wording for each kind.

A sentence explains an event in a few recognisable ways: a causal or purpose connective ("because",
"due to", "aimed at", "was seen as"), a softer temporal one ("after", "following"), a reported
explanation ("told MEE that...", "according to the aide"), a purpose clause (", to hold..."), a
manner phrase for how ("by ...ing", "through"). rag.answer.explain decides from these cues and the
sentences' places which one answers the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from rag.answer.clauses import own_reason, split_event
from rag.text import straighten_quotes

KINDS = ("why", "how", "after")
Asked = Callable[[str], float]  # text -> share of the question's words it holds
# A cue in another sentence than the event's counts this much of one in the event's own clause.
NEIGHBOUR = 0.7

# --- question kinds -------------------------------------------------------------------------

# A name or word inside a question ("F.A.", "Sadr's", "masked-man").
_WORD = r"[\w.'-]+"
# Verbs that, with "what" as their subject, ask for a cause ("what drove X to...", "what threw the
# Academy into...", "what earned X a medal"): causing, moving, making, earning.
_CAUSING = (r"set off|caused|causes|prompted|prompts|triggered|triggers|led|leads|drove|drives|driven|driving"
            r"|motivated|motivates|sparked|made|makes|pushed|pushes|fuell?ed|fanned|explains?|threw|thrown"
            r"|brought|brings|induced|persuaded|convinced|encouraged|forced|compelled|inspired|earned|got|gets"
            r"|spurred|provoked|fostered|stirred|opened|allowed|enabled"
            # What stood in the way ("what held up the release?", "what kept X from ...").
            r"|held up|holds up|delayed|delays|blocked|hindered|holding up|keeping|stopping|preventing"
            r"|(?:stopped|stops|kept|keeps|prevented|prevents) (?:\w+ ){1,6}from")
_WHY = re.compile(
    r"\bwhy\b|\bhow come\b|\bfor what\b|\bto what end\b"
    r"|\bwhat (?:was|is|were|are)(?: the)? (?:reasons?|purposes?|motives?|motivations?|aims?|goals?|causes?|"
    r"rationale|explanation|point|grounds?|intention)\b"
    # "what reason did Sadr give", "what excuse did the police give", "what cause did he die for"
    r"|\bwhat (?:reasons?|excuses?|justifications?|grounds|explanations?|motives?|purposes?|causes?) "
    r"(?:did|does|do|was|were|is|are|had|has|have)\b"
    r"|\b(?:reasons?|motives?|motivation|purpose|rationale|explanation|cause) (?:for|of|behind)\b"
    r"|\b's (?:reasons?|purpose|motive|aim|goal)\b"
    rf"|\bwhat (?:\w+ly )?(?:(?:is|are|was|were|has|have|had)(?: been)? )?(?:{_CAUSING})\b"
    # any past-tense verb with "what" as its subject: "what spoiled / influenced / landed X ..."
    r"|^\W*what (?:\w+ly )?(?!happened\b|followed\b|changed\b)[a-z]{3,}ed\b"
    r"|^\W*what (?:is|are|was|were) (?!happening\b|going\b)[a-z]{3,}ing\b"
    # "what won X its acclaim", "what put X alongside Y", "what left the marks"
    r"|^\W*what (?:won (?:[\w.'-]+ ){1,5}(?:its|his|her|their)|put|left|drew|turned|gave)\b"
    # "what did the committee cite", "what did he draw on", "what did X die of"
    rf"|\bwhat (?:did|does|do) (?:{_WORD},? ){{1,14}}(?:cite|draw on|die of|die from|blame)\b"
    r"|\bwhat (?:was|is|were|are|lay|lies) behind\b"
    # "what did X hope to achieve", "what were the makers of the video trying to accomplish"
    rf"|\bwhat (?:{_WORD} ){{1,12}}(?:hoping|trying|aiming|seeking|meant|intended|wanting|want|wanted|hope|hoped"
    r"|aim|aimed) to (?:achieve|show|do|accomplish|gain|signal|prove|say|send|get|add|bring|offer|provide|serve)\b"
    rf"|\bwhat (?:did|does|do) (?:{_WORD} ){{1,6}}(?:hope|aim|want|intend|seek|try|mean) to\b"
    # "what did his father say he died for?": what ... for is why ("what does X stand for?" is not)
    r"|^\W*what\b.*(?<!\bstand)(?<!\bstands)(?<!\bstood)(?<!\bknown)(?<!\bnamed)(?<!\bused) for\W*\?$", re.I)
_AFTER = re.compile(
    r"\bwhat (?:happened|happens|followed|follows|came|comes) (?:next|after|afterwards|then|once|when|following|of)\b"
    r"|\bwhat (?:happened|happens|became)\b.*\b(?:after|once|when|following|in the wake of)\b"
    r"|\bwhat did (?:[\w.'-]+ ){1,5}do (?:\w+ ){0,3}(?:after|once|when|following|in the wake of)\b"
    r"|\bwhat (?:did|does|do|would|will) (?:\w+ ){1,5}do (?:after|once|when|following|in response|next|then|about)\b"
    r"|\bhow did (?:\w+ ){1,5}(?:respond|react|reply|answer)\b"
    # "what did the win bring Spain", "what did X mean for Y", "what did the retirement do to Z"
    r"|\bwhat (?:did|does|do|has|have|will|would|could) (?:[\w.'$-]+,? ){1,14}(?:bring|mean for|do to|do for|make (?:her|him|them|it))\b"
    r"|\bwhat (?:was|were|is|are) the (?:results?|consequences?|outcomes?|responses?|reactions?|effects?|aftermath)\b"
    r"|\b(?:in response to|as a result of)\b.*\?$", re.I)
_HOW = re.compile(
    r"\bhow (?:did|do|does|is|are|was|were|can|could|will|would|has|have|had|should|might|may|must|to)\b"
    r"(?!.*\b(?:related|connected)\b)"
    r"|\bin what (?:way|manner)\b|\bby what (?:means|method)\b|\bwhat (?:method|means|way)s? (?:did|does|do|was|were|is|are)\b",
    re.I)


# Who says it is no part of what is asked: "How, according to the envoy, can X be overcome?"
_ASIDE = re.compile(r",\s*(?:according to|in the (?:\w+ )?(?:view|words|account) of|in [\w.'-]+ (?:view|words|account))"
                    r"[^,?]*,", re.I)


# "Why was X a landmark?", "what made X historic?": the reason asked for is what sets X apart, which
# news states as a first, an only, a record or a superlative ("became the first Canadian to win").
_ASKS_SIGNIFICANCE = re.compile(
    r"\b(?:landmarks?|milestones?|historic(?:al)?|history|special|significant|significance|notable|noteworthy"
    r"|remarkable|memorable|unique|unusual|stands? out|stood out|standout|turning point|watershed|breakthrough"
    r"|big (?:story|stories|deal)|groundbreaking|unprecedented|extraordinary|iconic|pioneering|trailblazing"
    r"|record(?:-breaking| books?)?)\b", re.I)


def asks_significance(question: str) -> bool:
    """Whether a why question asks what sets something apart ("why was X a landmark?")."""
    return question_kind(question) == "why" and bool(_ASKS_SIGNIFICANCE.search(straighten_quotes(question)))


def question_kind(question: str) -> str | None:
    """"why", "how" (method or manner), "after" (what happened after), or None for any other
    question. Why wins over the others ("how come"), after over how ("how did X respond")."""
    q = re.sub(r"\s+", " ", _ASIDE.sub(" ", straighten_quotes(question))).strip()
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
    r"|trac(?:ed|es|ing) (?:[\w'’-]+ ){0,4}?(?:back )?to"
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
POINTS_BACK = re.compile(
    r"""^["'(]*(?:this|that|these|those|such)\b(?! (?:is|was) (?:why|how|what|when|where)\b)""", re.I)
# A sentence right after the event whose subject points back at it and says what it serves ("This
# helps to alleviate the burden...", "That allows them to..."): the purpose of the event, so for a
# why question it is scored as a clause of the event sentence (the mirror of POINTS_BACK).
SERVES = re.compile(
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
REPORTED_REASON = 0.8
_MANNER = _words(
    r"by [a-z]+ing|by means of|through|using|via|with the help of|the way|method|methods"
    r"|relying on|thanks to|instead|in (?:a|an) (?:[a-z]+ ){1,3}(?:manner|way|fashion)")
# What an event led to, said in the sentence reporting it ("the retirement prompted Sadr to ...").
_LED_TO = _words(
    r"prompt(?:ed|ing|s)|led to|leading to|resulted in|result(?:ing)? in|forc(?:ed|ing)|caus(?:ed|ing)|in response"
    r"|as a result|trigger(?:ed|ing)|spark(?:ed|ing)|so that|therefore|consequently")
# "awarded ... for his uncompromising ...", "won the trophy on the strength of ...": the reason for
# an award, a verdict or a reputation, said with "for".
_FOR_REASON = re.compile(
    r"\b(?:awarded|honou?red|praised|recogni[sz]ed|cited|celebrated|critici[sz]ed|condemned|blamed|fined|punished"
    r"|arrested|jailed|sentenced|charged|sued|thanked|famous|nominated|rewarded)"
    r"\b[^.;]{0,80}?\bfor (?!the (?:first|second|third|last|next)\b|(?:the )?(?:\d|years?|months?|weeks?|days?)\b)"
    r"|\bon the strength of\b", re.I)
# What sets something apart: a first, an only, a record, a superlative.
_SETS_APART = _words(
    r"first|only|record|records|never|unprecedented|ever|all-time|history|historic|sole|lone"
    r"|largest|biggest|most|youngest|oldest|highest|lowest|fastest|longest|greatest|best|worst|richest|smallest")
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


def combine(*weights: float) -> float:
    """Independent evidence: 1 - prod(1 - w)."""
    rest = 1.0
    for w in weights:
        rest *= 1.0 - w
    return 1.0 - rest


def cues(sentence: str, kind: str, asked: Asked | None = None, significance: bool = False) -> Cues:
    """The cue strengths of one sentence for a question of this kind (why, how, after).

    `asked(text)` is the share of the question's words in a text: it tells which side of "X
    prompted Y" the question is about (a cause of Y, a consequence of X). Without it such
    verbs count as loose cues. `significance`: the why question asks what sets something apart
    (`asks_significance`), so a first, an only, a record or a superlative the question does not
    name itself is a reason.
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
        purpose = 0.8 if _PURPOSE_CLAUSE.search(text) or _FOR_REASON.search(text) else 0.0
        if significance and any(asked is None or asked(m.group(0)) == 0 for m in _SETS_APART.finditer(text)):
            purpose = max(purpose, 0.8)
        clause = combine(causal, temporal, purpose)
        looks_back = 0.5 if _LOOKS_BACK.match(text) else 0.0
        return Cues(clause, combine(clause, reported, looks_back))
    if kind == "how":
        # The manner is often in the sentence right after the event, worded like any narration.
        manner = 0.8 if _MANNER.search(text) else 0.0
        return Cues(manner, combine(manner, 0.5))
    if kind == "after":
        # Any sentence after the event may tell what followed; some say so.
        # "X prompted Y" tells what followed X when the question names X.
        led_to = 0.8 if _LED_TO.search(text) and cause_named else 0.0
        return Cues(led_to, combine(0.8 if _CONSEQUENCE.search(text) else 0.0, 0.6))
    raise ValueError(f"unknown question kind {kind!r}")


def own_clause(text: str, kind: str, asked: Asked | None, whole: float, significance: bool = False) -> float:
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
    listed = cues(" ".join(parts[i] for i in rest), kind, asked, significance).clause if rest else 0.0
    return max(own_reason(text, asked), listed, whole * NEIGHBOUR)


def reported_claim(sentence: str, asked: Asked) -> bool:
    """True when the sentence reports a claim ("X told MEE that ...", "according to X, ...") and
    the claim itself holds some of the question's words (it is about what the question names)."""
    found = _REPORTED_CLAIM.search(straighten_quotes(sentence))
    return bool(found) and asked(found.group(1) or found.group(2) or "") > 0


# Each kind of wording on its own, for the learned order (rag.answer.ranker).
_FLAGS = {"causal": _CAUSAL, "loosely_causal": _LOOSELY_CAUSAL, "temporal": _TEMPORAL, "purpose": _PURPOSE_CLAUSE,
          "for_reason": _FOR_REASON, "reported": _REPORTED, "looks_back": _LOOKS_BACK, "forward": _FORWARD,
          "manner": _MANNER, "consequence": _CONSEQUENCE}
FLAG_NAMES = tuple(_FLAGS)


def cue_flags(sentence: str) -> dict[str, float]:
    """1.0 for each kind of explaining wording the sentence holds, 0.0 otherwise."""
    text = straighten_quotes(sentence).strip()
    return {name: float(bool(pattern.search(text))) for name, pattern in _FLAGS.items()}
