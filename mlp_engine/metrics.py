"""Classification metrics: accuracy, confusion matrix, precision / recall /
F1, ROC curves and AUC, top-k accuracy and a JSON-friendly report.

All functions are pure and vectorised.  Labels are 1-D integer arrays of
class indices ``0 .. k-1``; probabilities (or any scores where larger
means "more likely") are ``(n, k)`` arrays, one row per sample.

Conventions
-----------
* Confusion matrix: rows are the true class, columns the predicted class.
* Precision, recall and F1 are 0 where they are undefined (no predictions,
  no true samples, or precision + recall = 0), computed without division
  warnings.
* ROC curves follow the usual definition: thresholds sorted in decreasing
  order, the first threshold is ``+inf`` (nothing predicted positive, the
  point (0, 0)), tied scores form a single point, and the last point is
  (1, 1).  AUC is the trapezoidal area, which equals the probability that
  a random positive scores higher than a random negative, ties counting
  one half.
* One-vs-rest AUC of a class that is absent from ``y_true`` (or is every
  sample) is undefined: :func:`roc_auc_ovr` raises, :func:`roc_auc_all`
  gives NaN for it and leaves it out of the macro average.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = [
    "accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "roc_curve",
    "auc",
    "roc_auc_ovr",
    "roc_auc_all",
    "top_k_accuracy",
    "misclassified",
    "classification_report",
]


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _labels(y: Any, name: str) -> np.ndarray:
    """Validate a 1-D array of non-negative integer class labels."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold integer labels, got NaN or inf")
        if arr.size and not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer labels, got non-integer values")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        if arr.size == 0:
            return np.zeros(0, np.int64)
        raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    if arr.size and int(arr.min()) < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {int(arr.min())}")
    return arr.astype(np.int64, copy=False)


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same length, "
            f"got {a.shape[0]} and {b.shape[0]}"
        )


def _non_empty(a: np.ndarray, name: str) -> None:
    if a.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got 0")


def _scores_2d(proba: Any, name: str) -> np.ndarray:
    """Validate an ``(n, k)`` array of finite scores."""
    arr = np.asarray(proba)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, k) array, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


def _labels_below(y: np.ndarray, k: int, name: str, what: str) -> None:
    if y.size and int(y.max()) >= k:
        raise ValueError(f"{name} must hold labels < {what} = {k}, got {int(y.max())}")


# --------------------------------------------------------------------------
# label metrics
# --------------------------------------------------------------------------


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true label.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    y_pred : array_like of int, shape (n,)

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the arrays are not 1-D integer labels, differ in length, or are
        empty.
    """
    yt = _labels(y_true, "y_true")
    yp = _labels(y_pred, "y_pred")
    _same_length(yt, yp, "y_true", "y_pred")
    _non_empty(yt, "y_true")
    return float(np.count_nonzero(yt == yp)) / yt.shape[0]


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Count matrix of (true, predicted) label pairs.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    y_pred : array_like of int, shape (n,)
    n_classes : int, optional
        Number of classes ``k``.  Default: ``1 + max`` label seen in either
        array (1 if both are empty).

    Returns
    -------
    ndarray, shape (k, k), int64
        ``cm[i, j]`` = number of samples of true class ``i`` predicted as
        class ``j``.  Rows sum to the class supports.

    Raises
    ------
    ValueError
        If the labels are invalid, the lengths differ, or a label is
        ``>= n_classes``.
    """
    yt = _labels(y_true, "y_true")
    yp = _labels(y_pred, "y_pred")
    _same_length(yt, yp, "y_true", "y_pred")
    if n_classes is None:
        k = 1 + max(int(yt.max()) if yt.size else 0, int(yp.max()) if yp.size else 0)
    else:
        if isinstance(n_classes, (bool, np.bool_)) or not isinstance(
            n_classes, (int, np.integer)
        ) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
        k = int(n_classes)
        _labels_below(yt, k, "y_true", "n_classes")
        _labels_below(yp, k, "y_pred", "n_classes")
    return np.bincount(yt * k + yp, minlength=k * k).reshape(k, k).astype(np.int64)


def precision_recall_f1(
    cm: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    Parameters
    ----------
    cm : array_like, shape (k, k)
        Confusion matrix, rows = true class, columns = predicted class
        (as returned by :func:`confusion_matrix`).

    Returns
    -------
    precision : ndarray, shape (k,), float64
        ``tp / (tp + fp)``; 0 for a class that is never predicted.
    recall : ndarray, shape (k,), float64
        ``tp / (tp + fn)``; 0 for a class with no true samples.
    f1 : ndarray, shape (k,), float64
        Harmonic mean of precision and recall; 0 when both are 0.
    support : ndarray, shape (k,), int64
        Number of true samples of each class (row sums).

    Raises
    ------
    ValueError
        If ``cm`` is not a square 2-D matrix of non-negative finite counts.
    """
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 1:
        raise ValueError(f"cm must be a square (k, k) matrix, got shape {m.shape}")
    if m.dtype.kind not in "biuf":
        raise ValueError(f"cm must be numeric, got dtype {m.dtype}")
    m = m.astype(np.float64)
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError("cm must hold non-negative finite counts")
    tp = np.diagonal(m)
    predicted = m.sum(axis=0)
    actual = m.sum(axis=1)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        out = np.zeros_like(num)
        np.divide(num, den, out=out, where=den > 0)
        return out

    precision = ratio(tp, predicted)
    recall = ratio(tp, actual)
    f1 = ratio(2.0 * precision * recall, precision + recall)
    support = np.rint(actual).astype(np.int64)
    return precision, recall, f1, support


def misclassified(y_true: Any, y_pred: Any) -> np.ndarray:
    """Indices of the samples whose prediction is wrong.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    y_pred : array_like of int, shape (n,)

    Returns
    -------
    ndarray of intp, shape (m,)
        Increasing indices ``i`` with ``y_true[i] != y_pred[i]``.
    """
    yt = _labels(y_true, "y_true")
    yp = _labels(y_pred, "y_pred")
    _same_length(yt, yp, "y_true", "y_pred")
    return np.flatnonzero(yt != yp)


# --------------------------------------------------------------------------
# score metrics
# --------------------------------------------------------------------------


def roc_curve(
    y_true_binary: Any, scores: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic of a binary scoring.

    Parameters
    ----------
    y_true_binary : array_like of bool or {0, 1}, shape (n,)
        1 / True marks a positive sample.
    scores : array_like of float, shape (n,)
        Larger means "more likely positive".

    Returns
    -------
    fpr : ndarray, shape (m + 1,), float64
        False-positive rate when everything scoring ``>= thresholds[i]`` is
        called positive.  ``fpr[0] = 0`` and ``fpr[-1] = 1``.
    tpr : ndarray, shape (m + 1,), float64
        True-positive rate, ``tpr[0] = 0`` and ``tpr[-1] = 1``.
    thresholds : ndarray, shape (m + 1,), float64
        ``+inf`` followed by the ``m`` distinct scores in decreasing order;
        tied scores make one point.

    Raises
    ------
    ValueError
        If the arrays are not 1-D, differ in length, ``y_true_binary`` holds
        values other than 0/1, ``scores`` is not finite, or there is not at
        least one positive and one negative sample (the curve is undefined).
    """
    y = np.asarray(y_true_binary)
    s = np.asarray(scores)
    if y.ndim != 1:
        raise ValueError(f"y_true_binary must be 1-D, got shape {y.shape}")
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {s.shape}")
    _same_length(y, s, "y_true_binary", "scores")
    if y.dtype.kind not in "biuf" or (y.size and not np.all((y == 0) | (y == 1))):
        raise ValueError("y_true_binary must hold only 0/1 or False/True values")
    if s.dtype.kind not in "biuf":
        raise ValueError(f"scores must be numeric, got dtype {s.dtype}")
    s = s.astype(np.float64, copy=False)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite, got NaN or inf")
    y = y.astype(bool)
    n_pos = int(np.count_nonzero(y))
    n_neg = y.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            "y_true_binary must contain both classes to define a ROC curve, "
            f"got {n_pos} positives and {n_neg} negatives"
        )
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    # last index of each run of equal scores
    last = np.flatnonzero(np.diff(s_sorted) != 0.0)
    last = np.append(last, s_sorted.shape[0] - 1)
    tps = np.cumsum(y_sorted, dtype=np.int64)[last]
    fps = (last + 1) - tps
    tpr = np.concatenate([[0.0], tps / n_pos])
    fpr = np.concatenate([[0.0], fps / n_neg])
    thresholds = np.concatenate([[np.inf], s_sorted[last]])
    return fpr, tpr, thresholds


def auc(x: Any, y: Any) -> float:
    """Area under a curve by the trapezoidal rule.

    Parameters
    ----------
    x : array_like, shape (m,)
        Monotonic (non-decreasing or non-increasing) abscissae, ``m >= 2``.
    y : array_like, shape (m,)

    Returns
    -------
    float
        The area, taken with ``x`` increasing (a non-increasing ``x`` gives
        the same value as the reversed curve).

    Raises
    ------
    ValueError
        If the arrays are not 1-D, differ in length, have fewer than two
        points, are not finite, or ``x`` is not monotonic.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or ya.ndim != 1:
        raise ValueError(
            f"x and y must be 1-D, got shapes {xa.shape} and {ya.shape}"
        )
    _same_length(xa, ya, "x", "y")
    if xa.shape[0] < 2:
        raise ValueError(f"x must have at least 2 points, got {xa.shape[0]}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must be finite, got NaN or inf")
    dx = np.diff(xa)
    if np.all(dx >= 0):
        direction = 1.0
    elif np.all(dx <= 0):
        direction = -1.0
    else:
        raise ValueError("x must be monotonic (non-decreasing or non-increasing)")
    return float(direction * np.sum(dx * (ya[1:] + ya[:-1]) * 0.5))


def roc_auc_ovr(y_true: Any, proba: Any, cls: int) -> float:
    """One-vs-rest ROC AUC of one class.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like, shape (n, k)
        Class scores; column ``cls`` scores the class against the rest.
    cls : int
        Class index, ``0 <= cls < k``.

    Returns
    -------
    float
        In [0, 1]: 1 for a perfect ranking, 0.5 for chance, 0 for inverted.

    Raises
    ------
    ValueError
        If the shapes disagree, ``cls`` is out of range, or the class is
        absent from ``y_true`` (or is every sample).
    """
    yt = _labels(y_true, "y_true")
    p = _scores_2d(proba, "proba")
    _same_length(yt, p, "y_true", "proba")
    k = p.shape[1]
    if isinstance(cls, (bool, np.bool_)) or not isinstance(cls, (int, np.integer)) or not 0 <= cls < k:
        raise ValueError(f"cls must be an integer in [0, {k}), got {cls!r}")
    fpr, tpr, _ = roc_curve(yt == cls, p[:, int(cls)])
    return auc(fpr, tpr)


def roc_auc_all(y_true: Any, proba: Any) -> tuple[np.ndarray, float]:
    """One-vs-rest ROC AUC of every class and their macro average.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like, shape (n, k)

    Returns
    -------
    per_class : ndarray, shape (k,), float64
        AUC of each class against the rest; NaN for a class absent from
        ``y_true`` or making up all of it (undefined).
    macro : float
        Mean over the classes with a defined AUC; NaN if there are none.

    Raises
    ------
    ValueError
        If the shapes disagree or a label is ``>= k``.
    """
    yt = _labels(y_true, "y_true")
    p = _scores_2d(proba, "proba")
    _same_length(yt, p, "y_true", "proba")
    k = p.shape[1]
    _labels_below(yt, k, "y_true", "the number of proba columns")
    per_class = np.full(k, np.nan)
    for c in range(k):
        n_pos = int(np.count_nonzero(yt == c))
        if 0 < n_pos < yt.shape[0]:
            fpr, tpr, _ = roc_curve(yt == c, p[:, c])
            per_class[c] = auc(fpr, tpr)
    defined = per_class[~np.isnan(per_class)]
    macro = float(defined.mean()) if defined.size else float("nan")
    return per_class, macro


def top_k_accuracy(y_true: Any, proba: Any, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Ties are broken by class index (a lower index ranks first), the same
    rule as ``argmax``, so ``top_k_accuracy(y, p, 1) == accuracy(y,
    p.argmax(1))``.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like, shape (n, c)
    k : int, default 5
        ``1 <= k <= c``.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the shapes disagree, the input is empty, a label is ``>= c``, or
        ``k`` is out of range.
    """
    yt = _labels(y_true, "y_true")
    p = _scores_2d(proba, "proba")
    _same_length(yt, p, "y_true", "proba")
    _non_empty(yt, "y_true")
    n, c = p.shape
    _labels_below(yt, c, "y_true", "the number of proba columns")
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= c:
        raise ValueError(f"k must be an integer in [1, {c}] (the number of classes), got {k!r}")
    true_score = p[np.arange(n), yt][:, None]
    cols = np.arange(c)[None, :]
    # rank of the true class = classes scoring higher + tied classes before it
    rank = np.count_nonzero(
        (p > true_score) | ((p == true_score) & (cols < yt[:, None])), axis=1
    )
    return float(np.count_nonzero(rank < k)) / n


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def _num(x: float) -> float | None:
    """A plain float, or None for NaN (JSON has no NaN)."""
    x = float(x)
    return None if np.isnan(x) else x


def classification_report(
    y_true: Any, proba: Any, class_names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Everything about a classifier's predictions, as plain JSON-ready data.

    The predicted class is the ``argmax`` of each row of ``proba``.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like, shape (n, k)
        Class probabilities (or scores).
    class_names : sequence of str, length k, optional
        Default: ``"0", "1", ...``.

    Returns
    -------
    dict
        Only ``dict``, ``list``, ``str``, ``int``, ``float`` and ``None``
        (NaN becomes ``None``), so ``json.dumps`` works directly::

            {
              "n_samples": int, "n_classes": int, "class_names": [str],
              "accuracy": float,
              "top_k_accuracy": {"2": float, "3": float, "5": float},  # k < n_classes
              "confusion_matrix": [[int]],      # rows true, cols predicted
              "per_class": [{"name", "precision", "recall", "f1",
                             "support", "auc"}],   # auc None if undefined
              "macro": {"precision", "recall", "f1", "auc"},
              "weighted": {"precision", "recall", "f1"},  # by support
              "n_misclassified": int,
            }

    Raises
    ------
    ValueError
        If the shapes disagree, the input is empty, a label is ``>= k``, or
        ``class_names`` does not have ``k`` entries.
    """
    yt = _labels(y_true, "y_true")
    p = _scores_2d(proba, "proba")
    _same_length(yt, p, "y_true", "proba")
    _non_empty(yt, "y_true")
    n, k = p.shape
    _labels_below(yt, k, "y_true", "the number of proba columns")
    if class_names is None:
        names = [str(i) for i in range(k)]
    else:
        if isinstance(class_names, str):
            raise ValueError("class_names must be a sequence of names, got a single string")
        names = [str(c) for c in class_names]
        if len(names) != k:
            raise ValueError(
                f"class_names must have one name per proba column, "
                f"got {len(names)} names and {k} columns"
            )
    y_pred = p.argmax(axis=1)
    cm = confusion_matrix(yt, y_pred, n_classes=k)
    precision, recall, f1, support = precision_recall_f1(cm)
    aucs, macro_auc = roc_auc_all(yt, p)
    weights = support / support.sum()
    return {
        "n_samples": int(n),
        "n_classes": int(k),
        "class_names": names,
        "accuracy": accuracy(yt, y_pred),
        "top_k_accuracy": {
            str(t): top_k_accuracy(yt, p, t) for t in (2, 3, 5) if t < k
        },
        "confusion_matrix": cm.tolist(),
        "per_class": [
            {
                "name": names[c],
                "precision": float(precision[c]),
                "recall": float(recall[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
                "auc": _num(aucs[c]),
            }
            for c in range(k)
        ],
        "macro": {
            "precision": float(precision.mean()),
            "recall": float(recall.mean()),
            "f1": float(f1.mean()),
            "auc": _num(macro_auc),
        },
        "weighted": {
            "precision": float((precision * weights).sum()),
            "recall": float((recall * weights).sum()),
            "f1": float((f1 * weights).sum()),
        },
        "n_misclassified": int(np.count_nonzero(y_pred != yt)),
    }
