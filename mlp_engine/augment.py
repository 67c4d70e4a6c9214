"""Cheap on-the-fly data augmentation of whole batches, vectorised in NumPy.

Every image of a batch gets its own random affine warp (shift, and for ``affine`` also
rotation, scale and stroke thickening/thinning), all computed at once: one bilinear gather
for the whole batch, no Python loop over images.
"""
from __future__ import annotations

import numpy as np

SIDE = 28


def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    r, c = np.meshgrid(np.arange(side, dtype=np.float32), np.arange(side, dtype=np.float32), indexing="ij")
    return r.ravel(), c.ravel()


_ROWS, _COLS = _grid(SIDE)


def affine_batch(images: np.ndarray, angle: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Warp each image of ``images`` ``(n, 784)`` by its own rotation, scale and shift.

    ``angle`` (radians), ``scale`` (1 = unchanged) are ``(n,)``; ``shift`` is ``(n, 2)`` in
    pixels (rows, cols). Rotation and scaling are about the image centre. Bilinear
    interpolation, zero outside the image. Returns float32 ``(n, 784)``.
    """
    n = images.shape[0]
    imgs = images.reshape(n, SIDE, SIDE).astype(np.float32, copy=False)
    # zero border of one pixel so that out-of-range samples read zeros
    padded = np.zeros((n, SIDE + 2, SIDE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = imgs
    flat = padded.reshape(n, -1)
    c = (SIDE - 1) / 2.0
    cos, sin = np.cos(angle)[:, None] / scale[:, None], np.sin(angle)[:, None] / scale[:, None]
    # inverse map: output pixel -> source position
    dr = _ROWS[None, :] - c - shift[:, :1]
    dc = _COLS[None, :] - c - shift[:, 1:]
    src_r = cos * dr + sin * dc + c + 1  # +1: the padding
    src_c = -sin * dr + cos * dc + c + 1
    np.clip(src_r, 0, SIDE + 1, out=src_r)
    np.clip(src_c, 0, SIDE + 1, out=src_c)
    # top-left neighbour at most SIDE, so that it and its +1 neighbours are inside the padding
    r0 = np.minimum(src_r.astype(np.int32), SIDE)
    c0 = np.minimum(src_c.astype(np.int32), SIDE)
    fr = np.subtract(src_r, r0, dtype=np.float32)
    fc = np.subtract(src_c, c0, dtype=np.float32)
    w = SIDE + 2
    i00 = r0 * w + c0
    v00 = np.take_along_axis(flat, i00, axis=1)
    v01 = np.take_along_axis(flat, i00 + 1, axis=1)
    v10 = np.take_along_axis(flat, i00 + w, axis=1)
    v11 = np.take_along_axis(flat, i00 + w + 1, axis=1)
    top = v00 + (v01 - v00) * fc
    bottom = v10 + (v11 - v10) * fc
    return top + (bottom - top) * fr


def shift_batch(images: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Translate each image of ``images`` ``(n, 784)`` by its own whole-pixel ``shift`` ``(n, 2)``
    (rows, cols), zero-filled. A view of every window of a padded batch, then one gather:
    ~10x cheaper than the bilinear warp, which integer shifts do not need."""
    n = images.shape[0]
    s = np.asarray(shift, dtype=np.int64)
    k = int(np.abs(s).max(initial=0))
    padded = np.zeros((n, SIDE + 2 * k, SIDE + 2 * k), dtype=np.float32)
    padded[:, k : k + SIDE, k : k + SIDE] = images.reshape(n, SIDE, SIDE)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (SIDE, SIDE), axis=(1, 2))
    # output pixel (r, c) reads input (r - dr, c - dc): window origin k - d in the padded image
    return windows[np.arange(n), k - s[:, 0], k - s[:, 1]].reshape(n, -1)


def _filter3(x: np.ndarray, op) -> np.ndarray:
    """3x3 grey dilation (``op=np.maximum``) or erosion (``np.minimum``) of ``(n, 28, 28)`` images."""
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    out = x.copy()
    for dr in range(3):
        for dc in range(3):
            op(out, p[:, dr : dr + SIDE, dc : dc + SIDE], out=out)
    return out


def augment_batch(images: np.ndarray, rng: np.random.Generator, config) -> np.ndarray:
    """Randomly warped copies of raw-pixel ``images`` ``(n, 784)`` (0..255), float32.

    ``config`` supplies ``augment`` (``shift`` or ``affine``), ``augment_shift`` (max pixels),
    ``augment_rotate`` (max degrees), ``augment_scale`` (max relative change) and
    ``augment_flip`` (mirror a random half left-right). ``affine``
    also thickens a quarter of the images and thins another quarter (a 3x3 max/min filter
    blended at a random strength), since drawn strokes vary in width more than MNIST's.
    """
    n = images.shape[0]
    shift = rng.uniform(-config.augment_shift, config.augment_shift, size=(n, 2)).astype(np.float32)
    if config.augment == "shift":
        out = shift_batch(images, np.round(shift))
    else:
        angle = np.deg2rad(rng.uniform(-config.augment_rotate, config.augment_rotate, size=n)).astype(np.float32)
        scale = (1.0 + rng.uniform(-config.augment_scale, config.augment_scale, size=n)).astype(np.float32)
        out = affine_batch(images, angle, scale, shift)
    if config.augment == "affine":
        imgs = out.reshape(n, SIDE, SIDE)
        kind = rng.random(n)
        strength = rng.random(n).astype(np.float32)[:, None, None]
        thick = kind < 0.25
        thin = kind > 0.75
        if thick.any():
            imgs[thick] += (_filter3(imgs[thick], np.maximum) - imgs[thick]) * strength[thick]
        if thin.any():
            imgs[thin] += (_filter3(imgs[thin], np.minimum) - imgs[thin]) * strength[thin]
    if config.augment_flip:
        imgs = out.reshape(n, SIDE, SIDE)
        flip = rng.random(n) < 0.5
        imgs[flip] = imgs[flip, :, ::-1]
    np.clip(out, 0, 255, out=out)
    return out
