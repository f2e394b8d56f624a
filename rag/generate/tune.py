"""Thresholds of the verifier chosen on labelled sentences: the most SUPPORTED ones shown as
written while at most 5% of the UNSUPPORTED ones are (the hard rule), on a tune split; then
reported on the held-out split.

Input rows (JSON Lines), one written sentence each:

    {"sentence": "...", "evidence": ["the cited sentence", ...], "label": "SUPPORTED" | "UNSUPPORTED",
     "split": "tune" | "heldout", "invalid": ["S9.9"]}          # invalid: optional

    python -m rag.generate.tune labelled.jsonl [--config config.yaml] [--max-unsupported 0.05]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.generate.verify import Checks, Thresholds, check_sentence

COVERAGE_GRID = tuple(round(x, 2) for x in np.arange(0.0, 1.0001, 0.05))
SIMILARITY_GRID = tuple(round(x, 3) for x in np.arange(0.0, 1.0001, 0.025))


@dataclass(frozen=True)
class Outcome:
    """How thresholds do on labelled sentences: SUPPORTED ones shown as written (kept) and
    UNSUPPORTED ones shown as written (the errors), as counts and shares."""

    thresholds: Thresholds
    supported: int
    supported_kept: int
    unsupported: int
    unsupported_shown: int

    @property
    def kept_share(self) -> float:
        return self.supported_kept / self.supported if self.supported else 0.0

    @property
    def unsupported_share(self) -> float:
        return self.unsupported_shown / self.unsupported if self.unsupported else 0.0

    def describe(self) -> str:
        t = self.thresholds
        return (f"coverage ≥ {t.min_coverage:.2f}, similarity ≥ {t.min_similarity:.3f}: SUPPORTED shown as written "
                f"{self.supported_kept}/{self.supported} ({self.kept_share:.0%}), UNSUPPORTED shown as written "
                f"{self.unsupported_shown}/{self.unsupported} ({self.unsupported_share:.1%})")


def evaluate(checks: Sequence[Checks], supported: Sequence[bool], thresholds: Thresholds) -> Outcome:
    """Counts of `thresholds` on labelled checks (`supported[i]`: the label of `checks[i]`)."""
    shown = [c.passed(thresholds) for c in checks]
    return Outcome(thresholds, sum(supported), sum(s and ok for s, ok in zip(supported, shown)),
                   sum(not s for s in supported), sum(not s and ok for s, ok in zip(supported, shown)))


def choose_thresholds(checks: Sequence[Checks], supported: Sequence[bool], max_unsupported: float = 0.05,
                      base: Thresholds = Thresholds()) -> Outcome:
    """The grid point keeping the most SUPPORTED sentences as written with at most
    `max_unsupported` of the UNSUPPORTED ones shown as written; among equals, the one showing
    fewest UNSUPPORTED, then the strictest. Checks (a) and (b) have no threshold: they always hold."""
    best: Outcome | None = None
    for coverage in COVERAGE_GRID:
        for similarity in SIMILARITY_GRID:
            outcome = evaluate(checks, supported, replace(base, min_coverage=coverage, min_similarity=similarity))
            if outcome.unsupported_share > max_unsupported:
                continue
            key = (outcome.supported_kept, -outcome.unsupported_shown, coverage + similarity)
            if best is None or key > (best.supported_kept, -best.unsupported_shown,
                                      best.thresholds.min_coverage + best.thresholds.min_similarity):
                best = outcome
    if best is None:  # nothing meets the rule: the strictest thresholds show nothing as written
        best = evaluate(checks, supported, replace(base, min_coverage=1.01, min_similarity=1.01))
    return best


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def checks_of(rows: Sequence[dict], embed) -> list[Checks]:
    vectors: dict[str, np.ndarray] = {}
    return [check_sentence(r["sentence"], r["evidence"], embed, cited=[f"E{i}" for i in range(len(r["evidence"]))],
                           invalid=r.get("invalid", ()), vectors=vectors) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.generate.tune", description=__doc__.split("\n")[0])
    parser.add_argument("labelled", type=Path)
    parser.add_argument("--config", default=None, help="the config whose embedder computes check (d)")
    parser.add_argument("--max-unsupported", type=float, default=0.05)
    args = parser.parse_args(argv)
    from embeddings import make_embedder
    from rag.config import load_settings

    embed = make_embedder(load_settings(args.config).embedding).embed
    rows = load_rows(args.labelled)
    checks = checks_of(rows, embed)
    labels = [r["label"].upper() == "SUPPORTED" for r in rows]
    tune = [i for i, r in enumerate(rows) if r.get("split", "tune") == "tune"]
    held = [i for i, r in enumerate(rows) if r.get("split") == "heldout"]
    chosen = choose_thresholds([checks[i] for i in tune], [labels[i] for i in tune], args.max_unsupported)
    print(f"tune ({len(tune)}): {chosen.describe()}")
    if held:
        outcome = evaluate([checks[i] for i in held], [labels[i] for i in held], chosen.thresholds)
        print(f"held out ({len(held)}): {outcome.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
