"""Fit the explanation ranker (rag/answer/ranker.py) on why/how/after question sets.

    .venv/bin/python scripts/train_explain_ranker.py            # cross-validate, fit, write weights
    .venv/bin/python scripts/train_explain_ranker.py --check    # cross-validate only

Each question is asked through the real Engine (the bundled model, the indexes `make eval`
builds under .index/); the sentences the answer chooses from are recorded with their features,
and a sentence is a positive when it holds one of the question's answer strings (the eval
matching rule). The model is a conditional logit: a softmax over one question's sentences, with
an L2 penalty chosen by leave-one-set-out cross-validation. The sets written apart from the
system to check it last (data/eval/why-fresh5/) are never read here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.answer import extract  # noqa: E402
from rag.answer.scoring import score_units  # noqa: E402
from rag.answer.ranker import FEATURES, WEIGHTS, features  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.text import normalize_for_match as normalize  # noqa: E402

# (question set, index built by `make eval`): every why/how/after set but data/eval/why-fresh5/.
TRAINING_SETS = [
    ("tests/data/why-sample-dev.jsonl", ".index/sample"),
    ("tests/answer/why-sample-dev-extra.jsonl", ".index/sample"),
    ("tests/answer/why-dev-more.jsonl", ".index/sample"),
    ("tests/answer/how-after-dev.jsonl", ".index/sample"),
    ("tests/data/why-sample-heldout.jsonl", ".index/sample"),
    ("tests/data/why-sample-unseen.jsonl", ".index/sample"),
    ("data/eval/why-final/why-sample-final.jsonl", ".index/sample"),
    ("data/eval/why-fresh/why-sample-fresh.jsonl", ".index/sample"),
    ("data/eval/why-fresh2/why-sample-fresh2.jsonl", ".index/sample"),
    ("data/eval/why-fresh3/why-sample-fresh3.jsonl", ".index/sample"),
    ("data/eval/why-fresh4/why-sample-fresh4.jsonl", ".index/sample"),
    ("tests/answer/why-rgb-dev.jsonl", ".index/rgb"),
    ("tests/answer/why-rgb-dev-more.jsonl", ".index/rgb"),
    ("tests/data/why-rgb-heldout.jsonl", ".index/rgb"),
    ("tests/data/why-rgb-unseen.jsonl", ".index/rgb"),
    ("data/eval/why-final/why-rgb-final.jsonl", ".index/rgb"),
    ("data/eval/why-fresh/why-rgb-fresh.jsonl", ".index/rgb"),
    ("data/eval/why-fresh2/why-rgb-fresh2.jsonl", ".index/rgb"),
    ("data/eval/why-fresh3/why-rgb-fresh3.jsonl", ".index/rgb"),
    ("data/eval/why-fresh4/why-rgb-fresh4.jsonl", ".index/rgb"),
]
PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


@dataclass
class Question:
    """One question's candidate sentences: features, which hold the answer, the rules' first."""

    set_name: str
    corpus: str
    x: np.ndarray
    positive: np.ndarray
    rule_first: int
    eligible: np.ndarray  # may open the answer (not an event sentence without a reason of its own)


def record(path: str, index: str) -> list[Question]:
    """Ask every question of a set and keep what the explanation chose from."""
    settings = load_settings(ROOT / "config.yaml")
    # What is recorded does not depend on the ranker (and its weights may be the ones being replaced).
    settings = settings.model_copy(update={"answer": settings.answer.model_copy(update={"explain_order": "rules"})})
    engine = Engine(settings, ROOT / index)
    calls = []
    real = extract.explain

    def recording(kind, units, relevance, max_sentences, asked=None, ranker=None, terms=frozenset(), key_words=None,
                  significance=False):
        calls.append((kind, units, relevance, asked, terms, key_words, significance))
        return real(kind, units, relevance, max_sentences, asked, ranker, terms, key_words, significance)

    out = []
    with mock.patch.object(extract, "explain", recording):
        for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            question = json.loads(line)
            calls.clear()
            engine.ask(question["question"])
            if not calls:
                continue  # not a why/how/after question to the system, or abstained
            kind, units, relevance, asked, terms, key_words, significance = calls[-1]
            scoring = score_units(kind, units, relevance, asked, terms, key_words, significance)
            answers = [normalize(a) for a in question["answers"]]
            positive = np.array([any(a in normalize(u.text) for a in answers) for u in units])
            if scoring is None or not positive.any():
                continue  # no sentence to learn from
            out.append(Question(Path(path).stem, Path(index).name, features(scoring, asked), positive,
                                scoring.rule_order()[0], np.array(scoring.may_come_first())))
    return out


def loss(weights: np.ndarray, questions: list[Question], penalty: float) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of the answer sentences, plus the L2 penalty, and its gradient."""
    total, grad = penalty * weights @ weights, 2 * penalty * weights
    for q in questions:
        logits = q.x @ weights
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        p_pos = p[q.positive].sum()
        total -= np.log(p_pos + 1e-12)
        # d(-log sum_pos p)/dw = E_p[x] - E_{p | positive}[x]
        grad += p @ q.x - (p * q.positive) @ q.x / (p_pos + 1e-12)
    return total / len(questions), grad / len(questions)


def fit(questions: list[Question], penalty: float) -> np.ndarray:
    result = minimize(loss, np.zeros(len(FEATURES)), args=(questions, penalty), jac=True, method="L-BFGS-B")
    return result.x


def first_right(weights: np.ndarray | None, questions: list[Question]) -> int:
    """Questions whose first sentence (learned, or the rules' with None) holds the answer."""
    return sum(bool(q.positive[_first(weights, q)]) for q in questions)


def event_first(weights: np.ndarray | None, questions: list[Question]) -> int:
    """Questions whose first sentence is an event sentence without a recognised reason of its own."""
    return sum(not q.eligible[_first(weights, q)] for q in questions)


def _first(weights: np.ndarray | None, q: Question) -> int:
    return q.rule_first if weights is None else int(np.argmax(q.x @ weights))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="cross-validate only; write nothing")
    args = parser.parse_args()
    questions = [q for path, index in TRAINING_SETS for q in record(path, index)]
    sets = sorted({q.set_name for q in questions})
    print(f"{len(questions)} questions with an answer sentence among the candidates, {len(FEATURES)} features")
    best = None
    for penalty in PENALTIES:
        right = rules = learned_events = rule_events = 0
        for held in sets:
            train = [q for q in questions if q.set_name != held]
            test = [q for q in questions if q.set_name == held]
            weights = fit(train, penalty)
            right += first_right(weights, test)
            rules += first_right(None, test)
            learned_events += event_first(weights, test)
            rule_events += event_first(None, test)
        print(f"leave-one-set-out, penalty {penalty}: learned first {right}/{len(questions)}, rules {rules}; "
              f"an event sentence without a recognised reason first: learned {learned_events}, rules {rule_events}")
        if best is None or right > best[0]:
            best = (right, penalty)
    for train_corpus in ("sample", "rgb"):
        train = [q for q in questions if q.corpus == train_corpus]
        test = [q for q in questions if q.corpus != train_corpus]
        weights = fit(train, best[1])
        print(f"fit on {train_corpus} only, tested on the other corpus: learned {first_right(weights, test)}"
              f"/{len(test)}, rules {first_right(None, test)}")
    if args.check:
        return
    weights = fit(questions, best[1])
    WEIGHTS.write_text(json.dumps({
        "about": "rag/answer/ranker.py; fitted by scripts/train_explain_ranker.py",
        "penalty": best[1], "questions": len(questions), "sets": [p for p, _ in TRAINING_SETS],
        "weights": {name: round(float(w), 4) for name, w in zip(FEATURES, weights)},
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS.relative_to(ROOT)} (penalty {best[1]}, in-sample first {first_right(weights, questions)})")


if __name__ == "__main__":
    main()
