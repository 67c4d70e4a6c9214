"""Learning-rate schedules as pure functions of training progress.

``progress`` is measured in epochs and may be fractional (``epoch + batch / n_batches``), so
cosine decay and warm-up move smoothly within an epoch.
"""
from __future__ import annotations

import math

SCHEDULES = ("constant", "step", "cosine")


def lr_at(
    schedule: str,
    base_lr: float,
    progress: float,
    total_epochs: int,
    step_size: int = 10,
    step_gamma: float = 0.1,
    warmup_epochs: float = 0.0,
    min_lr_ratio: float = 0.0,
) -> float:
    """Learning rate at ``progress`` epochs into a run of ``total_epochs``.

    - ``constant``: ``base_lr``
    - ``step``: ``base_lr * step_gamma ** floor(progress / step_size)``
    - ``cosine``: ``min + (base - min) * (1 + cos(pi * p)) / 2`` with ``p`` the fraction of the
      post-warm-up run done, ``min = base_lr * min_lr_ratio``.

    With ``warmup_epochs > 0``, any schedule first rises linearly from ~0 to ``base_lr``.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; valid schedules are {', '.join(SCHEDULES)}")
    if warmup_epochs > 0 and progress < warmup_epochs:
        return base_lr * (progress + 1e-3) / (warmup_epochs + 1e-3)
    if schedule == "constant":
        return base_lr
    if schedule == "step":
        return base_lr * step_gamma ** math.floor(progress / step_size)
    span = max(total_epochs - warmup_epochs, 1e-9)
    p = min(max((progress - warmup_epochs) / span, 0.0), 1.0)
    low = base_lr * min_lr_ratio
    return low + (base_lr - low) * 0.5 * (1.0 + math.cos(math.pi * p))
