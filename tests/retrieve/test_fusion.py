import numpy as np

from rag.retrieve.fusion import max_scaled, min_max, ranks_of, reciprocal_rank_fusion, score_mix


def test_rrf_exact_values():
    dense = np.array([1, 2, 0])  # third item missing from the dense ranking
    keyword = np.array([2, 1, 1])
    fused = reciprocal_rank_fusion([dense, keyword], k=60)
    assert np.allclose(fused, [1 / 61 + 1 / 62, 1 / 62 + 1 / 61, 1 / 61])


def test_score_mix_scales_each_score_before_mixing():
    dense = np.array([0.2, 0.6, 0.4])
    keyword = np.array([0.0, 5.0, 10.0])
    assert np.allclose(score_mix(dense, keyword, 0.7), [0.0, 0.7 + 0.15, 0.35 + 0.3])


def test_no_keyword_match_adds_nothing():
    assert np.allclose(max_scaled(np.zeros(3)), 0) and np.allclose(min_max(np.ones(3)), 0)


def test_ranks_of_orders_by_score_and_marks_missing_with_zero():
    scores = np.array([0.1, 0.9, 0.5, 0.0])
    assert ranks_of(scores).tolist() == [3, 1, 2, 4]
    assert ranks_of(scores, present=scores > 0).tolist() == [3, 1, 2, 0]


def test_close_dense_scores_are_not_stretched_over_an_exact_keyword_match():
    # Weak, nearly equal cosines (0.05 to 0.21) against the one passage holding the query word.
    dense = np.array([0.21, 0.19, 0.05])
    keyword = np.array([0.0, 0.0, 1.4])
    mixed = score_mix(dense, keyword, 0.7)
    assert np.allclose(mixed, [0.7 * 0.16 / 0.3, 0.7 * 0.14 / 0.3, 0.3])
    # plain min-max would give the noise a lead of 0.4; now it is small enough for evidence
    # inside the passages (the rerank bonus) to decide
    assert mixed[0] - mixed[2] < 0.1 < 0.7 - 0.3
    assert np.allclose(min_max(np.array([1.0, 2.0, 3.0]), 0.3), [0, 0.5, 1])  # wide spreads unchanged
