"""Choosing the verifier's thresholds on labelled checks."""

import json

from rag.generate.tune import choose_thresholds, evaluate, main
from rag.generate.verify import Checks, Thresholds


def checks(coverage, similarity, missing=()):
    return Checks(True, ("S1.1",), (), False, tuple(missing), tuple(missing), coverage, (), similarity)


def test_the_most_supported_kept_with_at_most_5_percent_unsupported_shown():
    # 20 UNSUPPORTED: one may be shown as written (5%), not two
    unsupported = [checks(0.5, 0.5)] * 17 + [checks(0.9, 0.62), checks(0.8, 0.7), checks(1.0, 0.9, ["2009"])]
    supported = [checks(1.0, 0.9), checks(0.9, 0.8), checks(0.85, 0.65), checks(0.7, 0.9), checks(0.4, 0.3)]
    labels = [False] * 20 + [True] * 5
    chosen = choose_thresholds(unsupported + supported, labels)
    # (0.8, 0.7) is the one UNSUPPORTED let through; (0.9, 0.62) must not pass, so similarity > 0.62
    assert (chosen.supported_kept, chosen.unsupported_shown) == (4, 1)
    # the strictest of the equals: coverage up to 0.7 keeps (0.7, 0.9), similarity up to 0.65 keeps (0.85, 0.65)
    assert (chosen.thresholds.min_coverage, chosen.thresholds.min_similarity) == (0.7, 0.65)
    assert chosen.unsupported_share == 0.05 and chosen.kept_share == 0.8
    # the missing name fails (b) at any threshold: never counted as shown
    assert evaluate(unsupported, [False] * 20, Thresholds(0.0, 0.0)).unsupported_shown == 19


def test_when_nothing_meets_the_rule_nothing_is_shown_as_written():
    chosen = choose_thresholds([checks(1.0, 1.0)], [False])
    assert (chosen.supported_kept, chosen.unsupported_shown) == (0, 0)


def test_the_command_tunes_on_one_split_and_reports_the_other(tmp_path, capsys, monkeypatch):
    rows = [{"sentence": "The bridge closed in March.", "evidence": ["The bridge closed in March 2024."],
             "label": "SUPPORTED", "split": "tune"},
            {"sentence": "The bridge closed in May.", "evidence": ["The bridge closed in March 2024."],
             "label": "UNSUPPORTED", "split": "tune"},
            {"sentence": "Repairs cost 4.5 million euros.", "evidence": ["Repairs will cost 4.5 million euros."],
             "label": "SUPPORTED", "split": "heldout"}]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    config = tmp_path / "c.yaml"
    config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    assert main([str(path), "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("tune (2): coverage ≥ ") and "SUPPORTED shown as written 1/1 (100%)" in out[0]
    assert "UNSUPPORTED shown as written 0/1 (0.0%)" in out[0]
    assert out[1].startswith("held out (1): ")


def test_the_default_thresholds_hold_on_the_held_out_labelled_sentences():
    """On the support set's held-out split (96 hand-labelled sentences of three small models, never
    used to choose the thresholds), with the real model: at most 5% of the UNSUPPORTED sentences are
    shown as written, and at least half of the SUPPORTED ones are."""
    import importlib.util
    from pathlib import Path

    from embeddings import make_embedder
    from rag.config import Settings
    from rag.generate.tune import checks_of

    path = Path(__file__).parents[2] / "data" / "eval" / "support" / "tune_rows.py"
    spec = importlib.util.spec_from_file_location("tune_rows", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [r for r in module.rows() if r["split"] == "heldout"]
    assert len(rows) == 96
    labels = [r["label"] == "SUPPORTED" for r in rows]
    outcome = evaluate(checks_of(rows, make_embedder(Settings().embedding).embed), labels, Thresholds())
    assert (outcome.supported, outcome.unsupported) == (27, 69)
    assert outcome.unsupported_share <= 0.05, outcome.describe()
    assert outcome.kept_share >= 0.5, outcome.describe()
