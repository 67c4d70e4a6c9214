"""Tests for mlp_engine.metrics on hand-made cases and brute-force references."""
import json
import warnings

import numpy as np
import pytest

from mlp_engine import metrics as M


# ---------------------------------------------------------------- accuracy


def test_accuracy_by_hand():
    assert M.accuracy([0, 1, 2, 2], [0, 2, 2, 2]) == pytest.approx(0.75)
    assert M.accuracy(np.array([3]), np.array([3])) == 1.0
    assert M.accuracy([1, 1], [0, 0]) == 0.0


def test_accuracy_validates_lengths():
    with pytest.raises(ValueError, match=r"y_true and y_pred .*3 and 2"):
        M.accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="at least one"):
        M.accuracy([], [])
    with pytest.raises(ValueError, match="1-D"):
        M.accuracy([[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match=">= 0"):
        M.accuracy([-1, 0], [0, 0])
    with pytest.raises(ValueError, match="integer"):
        M.accuracy([0.5, 1.0], [0, 1])


# -------------------------------------------------------- confusion matrix


def test_confusion_matrix_three_classes_by_hand():
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 0, 1, 2, 2, 0, 2, 1]
    expected = np.array(
        [
            [2, 1, 0],  # true 0: two right, one called 1
            [0, 1, 1],  # true 1
            [1, 1, 2],  # true 2
        ]
    )
    cm = M.confusion_matrix(y_true, y_pred)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == len(y_true)


def test_confusion_matrix_n_classes_pads_and_validates():
    cm = M.confusion_matrix([0, 1], [1, 1], n_classes=4)
    assert cm.shape == (4, 4)
    assert cm[0, 1] == 1 and cm[1, 1] == 1 and cm.sum() == 2
    with pytest.raises(ValueError, match="n_classes"):
        M.confusion_matrix([0, 5], [0, 1], n_classes=3)
    with pytest.raises(ValueError, match="n_classes"):
        M.confusion_matrix([0, 1], [0, 1], n_classes=0)
    with pytest.raises(ValueError, match=r"3 and 2"):
        M.confusion_matrix([0, 1, 1], [0, 1])


def test_confusion_matrix_matches_loop_on_random_data():
    rng = np.random.default_rng(3)
    yt = rng.integers(0, 7, 500)
    yp = rng.integers(0, 7, 500)
    ref = np.zeros((7, 7), np.int64)
    for a, b in zip(yt, yp):
        ref[a, b] += 1
    np.testing.assert_array_equal(M.confusion_matrix(yt, yp, n_classes=7), ref)


# ------------------------------------------------------ precision / recall


def test_precision_recall_f1_by_hand_with_class_never_predicted():
    # class 2 is never predicted, class 3 never occurs and is never predicted
    cm = np.array(
        [
            [3, 1, 0, 0],
            [1, 2, 0, 0],
            [1, 1, 0, 0],
            [0, 0, 0, 0],
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings allowed
        p, r, f, s = M.precision_recall_f1(cm)
    np.testing.assert_allclose(p, [3 / 5, 2 / 4, 0.0, 0.0])
    np.testing.assert_allclose(r, [3 / 4, 2 / 3, 0.0, 0.0])
    f0 = 2 * (3 / 5) * (3 / 4) / (3 / 5 + 3 / 4)
    f1 = 2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3)
    np.testing.assert_allclose(f, [f0, f1, 0.0, 0.0])
    np.testing.assert_array_equal(s, [4, 3, 2, 0])
    assert s.dtype == np.int64


def test_precision_recall_f1_validates():
    with pytest.raises(ValueError, match="square"):
        M.precision_recall_f1(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        M.precision_recall_f1(np.array([[1, -1], [0, 1]]))


# ---------------------------------------------------------------- ROC / AUC


def brute_force_auc(y, s):
    """Fraction of (positive, negative) pairs ranked correctly, ties = 1/2."""
    pos = s[y == 1]
    neg = s[y == 0]
    diff = pos[:, None] - neg[None, :]
    return (np.count_nonzero(diff > 0) + 0.5 * np.count_nonzero(diff == 0)) / diff.size


def brute_force_roc(y, s):
    """ROC points by thresholding at every distinct score, one at a time."""
    fpr, tpr = [0.0], [0.0]
    for t in np.unique(s)[::-1]:
        called = s >= t
        tpr.append(np.count_nonzero(called & (y == 1)) / np.count_nonzero(y == 1))
        fpr.append(np.count_nonzero(called & (y == 0)) / np.count_nonzero(y == 0))
    return np.array(fpr), np.array(tpr)


@pytest.mark.parametrize("seed", range(6))
def test_roc_and_auc_match_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1  # both classes present
    # coarse scores, so many ties, loosely related to the label
    s = np.round(rng.normal(size=n) + 0.8 * y, 1)
    fpr, tpr, thr = M.roc_curve(y, s)
    ref_fpr, ref_tpr = brute_force_roc(y, s)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    assert thr[0] == np.inf
    assert np.all(np.diff(thr) < 0)  # strictly decreasing: ties are one point
    assert len(thr) == len(np.unique(s)) + 1
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert M.auc(fpr, tpr) == pytest.approx(brute_force_auc(y, s), abs=1e-12)


def test_roc_all_tied_scores_is_the_diagonal():
    fpr, tpr, thr = M.roc_curve([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3])
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])
    np.testing.assert_array_equal(thr, [np.inf, 0.3])
    assert M.auc(fpr, tpr) == 0.5


def test_perfect_and_inverse_classifiers():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7])
    assert M.auc(*M.roc_curve(y, s)[:2]) == 1.0
    assert M.auc(*M.roc_curve(y, -s)[:2]) == 0.0
    assert M.auc(*M.roc_curve(y.astype(bool), s)[:2]) == 1.0


def test_roc_curve_validates():
    with pytest.raises(ValueError, match="both classes"):
        M.roc_curve([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"y_true_binary and scores .*3 and 2"):
        M.roc_curve([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="0/1"):
        M.roc_curve([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        M.roc_curve([0, 1], [0.1, np.nan])


def test_auc_trapezoid_and_validation():
    assert M.auc([0, 1, 2], [0, 1, 0]) == pytest.approx(1.0)
    assert M.auc([0, 0.5, 1], [1, 1, 1]) == pytest.approx(1.0)
    assert M.auc([2, 1, 0], [0, 1, 0]) == pytest.approx(1.0)  # decreasing x
    with pytest.raises(ValueError, match="monotonic"):
        M.auc([0, 2, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="at least 2"):
        M.auc([0], [1])
    with pytest.raises(ValueError, match=r"x and y .*3 and 2"):
        M.auc([0, 1, 2], [0, 1])


def test_roc_auc_ovr_and_all():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), y] += 1.0
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    per_class, macro = M.roc_auc_all(y, proba)
    assert per_class.shape == (3,)
    for c in range(3):
        expected = brute_force_auc((y == c).astype(int), proba[:, c])
        assert per_class[c] == pytest.approx(expected)
        assert M.roc_auc_ovr(y, proba, c) == pytest.approx(expected)
    assert macro == pytest.approx(per_class.mean())
    assert 0.6 < macro < 1.0


def test_roc_auc_all_absent_class_is_nan_and_skipped():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.2, 0.8, 0.0], [0.3, 0.6, 0.1]])
    per_class, macro = M.roc_auc_all(y, proba)
    assert per_class[0] == 1.0 and per_class[1] == 1.0
    assert np.isnan(per_class[2])
    assert macro == 1.0
    with pytest.raises(ValueError, match="both classes"):
        M.roc_auc_ovr(y, proba, 2)
    with pytest.raises(ValueError, match="cls"):
        M.roc_auc_ovr(y, proba, 3)
    with pytest.raises(ValueError, match=r"y_true and proba .*4 and 3"):
        M.roc_auc_all(y, proba[:3])


# ------------------------------------------------------------------- top-k


def test_top_k_accuracy_by_hand():
    proba = np.array(
        [
            [0.5, 0.3, 0.1, 0.1],  # true 0: rank 0
            [0.5, 0.3, 0.15, 0.05],  # true 2: rank 2
            [0.1, 0.2, 0.3, 0.4],  # true 0: rank 3
            [0.25, 0.25, 0.25, 0.25],  # true 1: tie, ranked after class 0 -> rank 1
        ]
    )
    y = np.array([0, 2, 0, 1])
    assert M.top_k_accuracy(y, proba, k=1) == pytest.approx(1 / 4)
    assert M.top_k_accuracy(y, proba, k=2) == pytest.approx(2 / 4)
    assert M.top_k_accuracy(y, proba, k=3) == pytest.approx(3 / 4)
    assert M.top_k_accuracy(y, proba, k=4) == 1.0
    # k = 1 is plain accuracy of the argmax (same tie rule)
    assert M.top_k_accuracy(y, proba, k=1) == M.accuracy(y, proba.argmax(1))


def test_top_k_accuracy_validates():
    proba = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"k must be .*\[1, 3\]"):
        M.top_k_accuracy([0, 1], proba, k=5)
    with pytest.raises(ValueError, match=r"y_true and proba .*3 and 2"):
        M.top_k_accuracy([0, 1, 2], proba, k=1)
    with pytest.raises(ValueError, match="< the number of proba columns"):
        M.top_k_accuracy([0, 3], proba, k=1)
    with pytest.raises(ValueError, match="2-D"):
        M.top_k_accuracy([0, 1], np.zeros(2), k=1)


# ------------------------------------------------------------ misclassified


def test_misclassified_indices():
    idx = M.misclassified([0, 1, 2, 3, 4], [0, 2, 2, 0, 4])
    np.testing.assert_array_equal(idx, [1, 3])
    assert M.misclassified([1, 1], [1, 1]).size == 0
    with pytest.raises(ValueError, match=r"2 and 1"):
        M.misclassified([1, 1], [1])


# ------------------------------------------------------------------- report


def test_classification_report_is_consistent_and_json_ready():
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.3, 0.6, 0.1],  # wrong (1)
            [0.1, 0.7, 0.2],
            [0.2, 0.5, 0.3],
            [0.1, 0.2, 0.7],
            [0.6, 0.1, 0.3],  # wrong (0)
        ]
    )
    rep = M.classification_report(y, proba, ["zero", "one", "two"])
    json.dumps(rep, allow_nan=False)  # plain data, no NaN
    assert rep["n_samples"] == 6 and rep["n_classes"] == 3
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert rep["n_misclassified"] == 2
    assert rep["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert set(rep["top_k_accuracy"]) == {"2"}
    assert rep["top_k_accuracy"]["2"] == pytest.approx(M.top_k_accuracy(y, proba, 2))
    names = [c["name"] for c in rep["per_class"]]
    assert names == ["zero", "one", "two"]
    one = rep["per_class"][1]
    assert one["precision"] == pytest.approx(2 / 3)
    assert one["recall"] == 1.0
    assert one["support"] == 2
    assert one["auc"] == pytest.approx(M.roc_auc_ovr(y, proba, 1))
    p, r, f, s = M.precision_recall_f1(np.array(rep["confusion_matrix"]))
    assert rep["macro"]["f1"] == pytest.approx(f.mean())
    assert rep["weighted"]["recall"] == pytest.approx(rep["accuracy"])
    assert rep["macro"]["auc"] == pytest.approx(M.roc_auc_all(y, proba)[1])


def test_classification_report_undefined_auc_is_none():
    y = np.array([0, 1, 1])
    proba = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.4, 0.5, 0.1]])
    rep = M.classification_report(y, proba)
    assert [c["name"] for c in rep["per_class"]] == ["0", "1", "2"]
    assert rep["per_class"][2]["auc"] is None
    assert rep["per_class"][2]["support"] == 0
    json.dumps(rep, allow_nan=False)


def test_classification_report_validates_names():
    with pytest.raises(ValueError, match=r"class_names .*2 names and 3 columns"):
        M.classification_report([0, 1], np.eye(3)[:2], ["a", "b"])
