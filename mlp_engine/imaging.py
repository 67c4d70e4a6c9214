"""Turn a drawing, photo or scan of a digit into an MNIST-style 28x28 image.

The MNIST digits were made like this (LeCun, Cortes & Burges): the
black-and-white NIST digit was scaled so that its longer side fits a
20x20 box (keeping the aspect ratio, anti-aliased, hence grey levels),
then put into a 28x28 field so that the intensity centre of mass sits in
the middle.  :func:`to_mnist` repeats those steps on an arbitrary image
and, optionally, brings the stroke thickness into the MNIST range, so that
a digit drawn with a thin pen or a thick marker looks like the digits the
network was trained on.

Conventions
-----------
* Output images are white ink (1.0) on black (0.0), float32, shape (28, 28),
  indexed ``[row, col]``.
* Centre of mass: pixel ``(r, c)`` is the point with coordinates
  ``(r, c)`` (pixel centres at integer coordinates, 0-indexed).  The output
  has its intensity centre of mass at ``(14.0, 14.0)`` in these coordinates,
  with sub-pixel accuracy.  This is what MNIST does: over the 10,000 test
  digits the centre of mass lies in ``[13.5, 14.5]`` on both axes (MNIST
  shifted by whole pixels, so it is only within half a pixel of 14).
* The ink's bounding box is at most 20 px (+1 px of anti-aliasing spill
  from the sub-pixel shift) on its longer side, as in MNIST.
* Stroke thickness (``normalize_stroke=True``) is measured relative to the
  size of the digit: ``stroke width / longer side of the ink bounding box``
  (MNIST's 20 px box), because MNIST scaled every digit, pen and all, to
  that box.  The stroke width is estimated from the ink area ``M`` and the
  perimeter ``P`` (total variation) with a round-capped stroke model
  (``M = w l + pi w^2 / 4``, ``P = 2 l + pi w``).  On MNIST test digits this
  relative width is 0.118 (median; interquartile range 0.103 to 0.139,
  10th/90th percentiles 0.092/0.165) and the same for every class.
  Digits inside the interquartile range are left alone; thinner ones are
  dilated and thicker ones eroded to the median (at 20 px that is a stroke
  about 2.4 px wide), so thin-pen and thick-marker drawings come out alike.
  See :data:`STROKE_WIDTH_RANGE` and :data:`STROKE_WIDTH_TARGET`.

:func:`render_strokes` rasterises polylines (e.g. mouse strokes) without
any GUI toolkit.

Pure NumPy.  PIL images are accepted as input (recognised by their
interface; Pillow itself is not imported here).  Resampling is exact area
averaging (shrinking) or linear interpolation (enlarging), done with
cumulative sums and gathers rather than matrix products, so that it stays
fast when BLAS threads are busy elsewhere (e.g. training).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

__all__ = [
    "EmptyDrawingError",
    "to_mnist",
    "render_strokes",
    "MNIST_SIZE",
    "MNIST_BOX",
    "MNIST_CENTER",
    "STROKE_WIDTH_RANGE",
    "STROKE_WIDTH_TARGET",
]

#: Side of the output image, in pixels.
MNIST_SIZE = 28
#: Longer side of the digit's bounding box inside the output, in pixels.
MNIST_BOX = 20
#: Where the intensity centre of mass is put, as (row, col) pixel coordinates.
MNIST_CENTER = (14.0, 14.0)

#: Relative stroke widths (stroke width / longer side of the ink bounding box)
#: that are left untouched: the interquartile range on MNIST test digits,
#: measured with the same estimator.
STROKE_WIDTH_RANGE = (0.103, 0.139)
#: Relative stroke width that thinner / thicker drawings are brought to
#: (the MNIST median).
STROKE_WIDTH_TARGET = 0.118

# Ink below this fraction of the maximum does not count for the bounding box
# and is treated as background noise.
_NOISE_FRACTION = 0.08
# Contrast (ink maximum minus background level) below which an image is empty.
_MIN_CONTRAST = 0.04
# Working resolution (longer side, px) for measuring and changing stroke width.
_WORK_SIZE = 80
# Strokes thinner than this at the working resolution are processed at a
# higher resolution so that they are resolved by the pixel grid.
_MIN_WORK_WIDTH = 2.5
_MAX_WORK_SIZE = 224
# Relative stroke widths this factor (or more) outside STROKE_WIDTH_RANGE are
# brought all the way to STROKE_WIDTH_TARGET; closer ones part of the way.
_RAMP = 1.15
# Mean edge displacement of one _morph step, in px (1 on axis-aligned edges,
# up to ~1.12 on oblique ones).
_MORPH_GAIN = 1.06
# Largest centre-of-mass error (px) accepted without a final bilinear shift.
_COM_TOLERANCE = 0.01
# Upper bound on dilation / erosion steps (each step moves an edge by ~1 px).
_MAX_STEPS = 40


class EmptyDrawingError(ValueError):
    """Raised when an image holds no ink to turn into a digit."""


# --------------------------------------------------------------------------
# input conversion
# --------------------------------------------------------------------------


def _to_gray(image: Any) -> np.ndarray:
    """Convert ``image`` to a 2-D float32 array with values in [0, 1].

    Parameters
    ----------
    image : array_like or PIL.Image.Image
        ``(H, W)`` grayscale (uint8 0..255, bool, other integers 0..255, or
        float 0..1), ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, or a PIL image.

    Returns
    -------
    gray : ndarray, shape (H, W), float32
        Luminance in [0, 1].  Transparent pixels of an RGBA image are
        composited over the background colour opposite to the opaque
        content (white under dark ink, black under light ink).
    """
    if hasattr(image, "getbands") and hasattr(image, "convert"):  # PIL image
        mode = image.mode
        if mode.startswith("I;16"):
            arr = np.asarray(image, dtype=np.float32) * np.float32(1.0 / 65535.0)
        elif mode == "F":
            arr = np.asarray(image, dtype=np.float32)
            if arr.size and float(np.nanmax(arr)) > 1.0:
                arr = arr * np.float32(1.0 / 255.0)  # PIL's 0..255 float scale
        elif mode in ("I", "L"):
            arr = np.asarray(image)  # int32 is checked to lie in 0..255
        elif "A" in image.getbands() or "transparency" in image.info:
            arr = np.asarray(image.convert("RGBA"))
        else:  # 1, P, RGB, CMYK, YCbCr, LAB, HSV, ...
            arr = np.asarray(image.convert("L"))
    else:
        arr = np.asarray(image)

    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(
            f"image must be a numeric array or a PIL image, got dtype {arr.dtype}"
        )
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(
            "image must have shape (H, W), (H, W, 3) or (H, W, 4), "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"image must be at least 1x1, got shape {arr.shape}")

    if arr.dtype.kind == "b":
        data = arr.astype(np.float32)
    elif arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                "integer image values must lie in 0..255, "
                f"got min {lo} and max {hi}"
            )
        data = arr.astype(np.float32) * np.float32(1.0 / 255.0)
    else:
        data = arr.astype(np.float32, copy=False)
        if not np.all(np.isfinite(data)):
            raise ValueError("float image values must be finite, got NaN or inf")
        lo, hi = float(data.min()), float(data.max())
        if lo < -1e-6 or hi > 1.0 + 1e-6:
            raise ValueError(
                "float image values must lie in [0, 1], "
                f"got min {lo:g} and max {hi:g}"
            )
        data = np.clip(data, 0.0, 1.0)

    if data.ndim == 2:
        return np.ascontiguousarray(data, dtype=np.float32)

    rgb = data[:, :, :3]
    # ITU-R 601 luma, the same weights Pillow uses for mode "L".
    lum = rgb[:, :, 0] * np.float32(0.299)
    lum += rgb[:, :, 1] * np.float32(0.587)
    lum += rgb[:, :, 2] * np.float32(0.114)
    if data.shape[2] == 4:
        alpha = data[:, :, 3]
        total = float(alpha.sum())
        if total <= 0.0:
            # fully transparent: nothing drawn
            return np.zeros(lum.shape, np.float32)
        content = float((lum * alpha).sum()) / total
        bg = np.float32(1.0 if content < 0.5 else 0.0)
        lum = lum * alpha + bg * (np.float32(1.0) - alpha)
    return np.ascontiguousarray(lum, dtype=np.float32)


def _border_level(gray: np.ndarray) -> float:
    """Median of the pixels in a thin frame along the image border."""
    h, w = gray.shape
    t = max(1, min(h, w) // 32)
    if 2 * t >= h or 2 * t >= w:
        return float(np.median(gray))
    frame = np.concatenate(
        [
            gray[:t].ravel(),
            gray[-t:].ravel(),
            gray[t:-t, :t].ravel(),
            gray[t:-t, -t:].ravel(),
        ]
    )
    return float(np.median(frame))


def _ink(gray: np.ndarray, invert: Any) -> np.ndarray:
    """White-on-black ink image with the background removed, max 1.

    Raises
    ------
    EmptyDrawingError
        If no ink stands out from the background.
    """
    if isinstance(invert, str):
        if invert != "auto":
            raise ValueError(
                f"invert must be 'auto', True or False, got {invert!r}"
            )
        # The ink is whatever departs farther from the background level.
        bg = _border_level(gray)
        do_invert = bg - float(gray.min()) > float(gray.max()) - bg
    elif isinstance(invert, (bool, np.bool_)):
        do_invert = bool(invert)
    else:
        raise ValueError(f"invert must be 'auto', True or False, got {invert!r}")

    ink = (np.float32(1.0) - gray) if do_invert else gray
    bg = _border_level(ink)
    top = float(ink.max())
    if top - bg < _MIN_CONTRAST:
        raise EmptyDrawingError(
            "the drawing is empty: draw something first "
            f"(no ink stands out from the background; contrast {top - bg:.3g})"
        )
    ink = (ink - np.float32(bg)) * np.float32(1.0 / (top - bg))
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def _bbox(img: np.ndarray, level: float) -> tuple[int, int, int, int] | None:
    """Bounding box ``(r0, r1, c0, c1)`` (end-exclusive) of pixels > level."""
    mask = img > level
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _crop(img: np.ndarray) -> np.ndarray:
    """Crop to the ink bounding box and zero the faint noise in it."""
    level = _NOISE_FRACTION * float(img.max())
    box = _bbox(img, level)
    if box is None:  # pragma: no cover - callers check for ink first
        raise EmptyDrawingError("the drawing is empty: draw something first")
    r0, r1, c0, c1 = box
    out = img[r0:r1, c0:c1].copy()
    out[out <= level] = 0.0
    return out


# --------------------------------------------------------------------------
# resampling
# --------------------------------------------------------------------------


def _resample_axis(
    img: np.ndarray,
    scale: float,
    axis: int,
    offset: float = 0.0,
    n_out: int | None = None,
) -> np.ndarray:
    """Resample ``img`` by ``scale`` along one axis, without BLAS.

    The map is ``u = scale * x + offset`` from source to output edge
    coordinates (source pixel ``j`` covers ``[j, j + 1)``, output pixel
    ``i`` covers ``[i, i + 1)``), so the scale factor and any sub-pixel
    offset are kept exactly; partly covered output pixels get partial ink
    and everything outside the source is background (0).  Shrinking
    (``scale <= 1``) is exact area averaging, computed from the cumulative
    sum; enlarging is linear interpolation between pixel centres (clamped
    at the edge pixels, so the ink stays within the scaled extent).  The
    total ink is multiplied by ``scale`` (exactly when shrinking, roughly
    when enlarging), minus what falls outside the output.

    Parameters
    ----------
    img : ndarray, shape (H, W), float32
    scale : float
        Output pixels per source pixel.
    axis : {0, 1}
    offset : float, default 0
        Output coordinate of the source's first edge.
    n_out : int, optional
        Output length along ``axis``; default ``ceil(n * scale + offset)``.

    Returns
    -------
    ndarray, float32
        Shape ``(n_out, W)`` for ``axis=0``, ``(H, n_out)`` for ``axis=1``.
    """
    src = img if axis == 0 else img.T
    n = src.shape[0]
    if n_out is None:
        n_out = max(1, int(math.ceil(n * scale + offset - 1e-6)))
    i = np.arange(n_out + 1, dtype=np.float64)
    if scale <= 1.0:
        # F(x) = integral of the ink from 0 to x, piecewise linear in x.
        cum = np.zeros((n + 1,) + src.shape[1:], np.float32)
        np.cumsum(src, axis=0, out=cum[1:])
        x = np.clip((i - offset) / scale, 0.0, float(n))
        k = np.minimum(np.floor(x).astype(np.intp), n - 1)
        frac = (x - k).astype(np.float32)[:, None]
        edge = cum[k] + frac * src[k]
        out = (edge[1:] - edge[:-1]) * np.float32(scale)
    else:
        # linear interpolation, clamped at the source's edge pixels, times
        # the fraction of each output pixel that the source covers (so the
        # ink stays inside the scaled source's extent)
        c = (i[:-1] + 0.5 - offset) / scale - 0.5  # output centres, source index units
        c = np.clip(c, 0.0, float(n - 1))
        k = np.minimum(np.floor(c).astype(np.intp), max(n - 2, 0))
        frac = (c - k).astype(np.float32)[:, None]
        lo = src[k]
        hi = src[np.minimum(k + 1, n - 1)]
        cover = np.clip(
            np.minimum(i[1:], offset + n * scale) - np.maximum(i[:-1], offset), 0.0, 1.0
        ).astype(np.float32)[:, None]
        out = (lo + frac * (hi - lo)) * cover
    return out if axis == 0 else np.ascontiguousarray(out.T)


def _block_mean(img: np.ndarray, k: int) -> np.ndarray:
    """Average ``k x k`` blocks (zero-padding the ragged edge)."""
    h, w = img.shape
    hp, wp = -(-h // k) * k, -(-w // k) * k
    if (hp, wp) != (h, w):
        img = np.pad(img, ((0, hp - h), (0, wp - w)))
    return img.reshape(hp // k, k, wp // k, k).mean(axis=(1, 3), dtype=np.float32)


def _shrink_source(img: np.ndarray, longer: float) -> tuple[np.ndarray, float]:
    """Source (maybe pre-shrunk) and factor for a rescale to ``longer`` px.

    Very large sources are first averaged over whole ``k x k`` blocks
    (exact, and it keeps the work small); returns the image to resample
    and the remaining scale factor.
    """
    size = max(img.shape)
    img = img.astype(np.float32, copy=False)
    if size > 8 * longer and size > 512:
        k = int(size // (4 * longer))
        return _block_mean(img, k), longer * k / size
    return img, longer / size


def _rescale(img: np.ndarray, longer: float) -> np.ndarray:
    """Anti-aliased rescale so that the longer side is ``longer`` pixels.

    Both axes use the same factor ``longer / max(H, W)`` (the aspect ratio
    is kept exactly; the shorter side's last pixel may be partly covered).

    Parameters
    ----------
    img : ndarray, shape (H, W)
    longer : float

    Returns
    -------
    ndarray, shape (ceil(H * s), ceil(W * s)), float32, with
    ``s = longer / max(H, W)``.
    """
    src, scale = _shrink_source(img, longer)
    out = _resample_axis(src, scale, 0)
    out = _resample_axis(out, scale, 1)
    return np.clip(out, 0.0, 1.0, out=out)


def _to_field(crop: np.ndarray) -> np.ndarray:
    """Scale a cropped digit to the 20 px box and centre its mass in 28x28.

    The sub-pixel offset is built into the resampling (each output pixel
    averages the source area it covers), so centring does not blur the
    digit.  Area averaging moves the centre of mass by a few hundredths of
    a pixel; that is corrected by re-resampling with an adjusted offset
    until it is within 0.01 px (if that fails, e.g. because ink falls off
    the field, a final bilinear shift puts it in place).

    Parameters
    ----------
    crop : ndarray, shape (H, W)
        Ink cropped to its bounding box.

    Returns
    -------
    ndarray, shape (28, 28), float32
        Centre of mass at :data:`MNIST_CENTER` (pixel-centre coordinates).
    """
    src, scale = _shrink_source(crop, MNIST_BOX)
    # target in edge coordinates: pixel centre r sits at edge coordinate r + .5
    ty, tx = MNIST_CENTER[0] + 0.5, MNIST_CENTER[1] + 0.5
    sy, sx = _center_of_mass(src)  # pixel-centre coordinates of the source
    oy = ty - scale * (sy + 0.5)
    ox = tx - scale * (sx + 0.5)
    for _ in range(4):
        out = _resample_axis(src, scale, 0, oy, MNIST_SIZE)
        out = _resample_axis(out, scale, 1, ox, MNIST_SIZE)
        if float(out.sum()) <= 0.0:
            raise EmptyDrawingError("the drawing is empty: draw something first")
        cy, cx = _center_of_mass(out)
        ey, ex = MNIST_CENTER[0] - cy, MNIST_CENTER[1] - cx
        if abs(ey) < _COM_TOLERANCE and abs(ex) < _COM_TOLERANCE:
            return np.clip(out, 0.0, 1.0, out=out)
        oy += ey
        ox += ex
    out = _place(out, ey, ex, MNIST_SIZE)
    return np.clip(out, 0.0, 1.0, out=out)


# --------------------------------------------------------------------------
# stroke width
# --------------------------------------------------------------------------


def _stroke_width(img: np.ndarray) -> float:
    """Estimate the stroke width of an ink image, in pixels.

    The ink is modelled as a capsule (a stroke of width ``w`` and length
    ``l`` with round caps): area ``M = w l + pi w^2 / 4`` and perimeter
    ``P = 2 l + pi w``.  ``M`` is the total intensity and ``P`` the total
    variation of the image (by the coarea formula, the perimeter of the
    shape, also for anti-aliased or blurred ink).  Solving for ``w`` gives
    ``w = (P/2 - sqrt(P^2/4 - pi M)) / (pi/2)``.  Exact for one straight
    stroke or a dot, a good approximation for several strokes.

    Parameters
    ----------
    img : ndarray, shape (H, W)
        Ink image, white on black.

    Returns
    -------
    float
        Estimated stroke width in pixels (0 for an empty image).
    """
    mass = float(img.sum(dtype=np.float64))
    if mass <= 0.0:
        return 0.0
    p = np.pad(img, 1)
    a = p[:-1, :-1]
    b = p[:-1, 1:]
    c = p[1:, :-1]
    d = p[1:, 1:]
    gx = (b - a) + (d - c)
    gy = (c - a) + (d - b)
    perim = 0.5 * float(np.sqrt(gx * gx + gy * gy).sum(dtype=np.float64))
    half = 0.5 * perim
    disc = max(half * half - math.pi * mass, 0.0)
    return (half - math.sqrt(disc)) / (0.5 * math.pi)


def _filter3(x: np.ndarray, axis: int, op: Any) -> np.ndarray:
    """``op`` (maximum/minimum) over each pixel and its two neighbours on an axis.

    Missing neighbours at the array edge are ignored; :func:`_morph` keeps
    a zero frame around the ink so that this equals zero padding.
    """
    out = x.copy()
    if axis == 0:
        op(out[1:], x[:-1], out=out[1:])
        op(out[:-1], x[1:], out=out[:-1])
    else:
        op(out[:, 1:], x[:, :-1], out=out[:, 1:])
        op(out[:, :-1], x[:, 1:], out=out[:, :-1])
    return out


def _morph(img: np.ndarray, steps: float) -> np.ndarray:
    """Move every ink edge outwards (``steps > 0``) or inwards by ``|steps|`` px.

    Each whole step is the average of a 3x3-square and a plus-shaped
    grey-level dilation (or erosion).  On a 45-degree edge those move the
    edge by sqrt(2) and 1/sqrt(2) px, on an axis-aligned edge by 1 px each,
    so their average moves every edge by about 1 px whatever its direction
    (1.0 to 1.12, mean ~1.06), which keeps round strokes round.  The
    fractional part is a blend with one more step.  The image is padded
    with zeros first (by enough for dilated ink not to be cut off).

    Parameters
    ----------
    img : ndarray, shape (H, W)
    steps : float

    Returns
    -------
    ndarray, shape (H + 2p, W + 2p), float32
        ``p = floor(|steps|) + 2`` for dilation, 1 for erosion.
    """
    dilate = steps > 0
    op = np.maximum if dilate else np.minimum
    n_float = min(abs(steps), float(_MAX_STEPS))
    n = int(math.floor(n_float))
    frac = n_float - n
    img = np.pad(img.astype(np.float32, copy=False), n + 2 if dilate else 1)
    half = np.float32(0.5)

    def step(x: np.ndarray) -> np.ndarray:
        rows = _filter3(x, 1, op)           # horizontal 1x3
        out = _filter3(rows, 0, op)         # 3x3 square
        plus = _filter3(x, 0, op)           # vertical 3x1
        op(plus, rows, out=plus)         # plus shape
        out += plus
        out *= half
        return out

    for _ in range(n):
        img = step(img)
    if frac > 1e-3:
        nxt = step(img)
        img = img * np.float32(1.0 - frac) + nxt * np.float32(frac)
    return img


def _target_relative_width(rel: float) -> float | None:
    """Relative stroke width a drawing with relative width ``rel`` should get.

    ``None`` (leave it alone) inside :data:`STROKE_WIDTH_RANGE`.  Outside,
    the target moves from the range's edge to :data:`STROKE_WIDTH_TARGET`
    as ``rel`` goes from the edge to :data:`_RAMP` times farther out (in
    ratio), and stays there beyond: thin and thick drawings end up alike,
    and the result changes continuously while a user draws.
    """
    lo, hi = STROKE_WIDTH_RANGE
    if lo <= rel <= hi or rel <= 0.0:
        return None
    edge = hi if rel > hi else lo
    t = min(1.0, abs(math.log(rel / edge)) / math.log(_RAMP))
    return math.exp((1.0 - t) * math.log(edge) + t * math.log(STROKE_WIDTH_TARGET))


def _normalize_stroke(crop: np.ndarray) -> np.ndarray:
    """Bring the relative stroke width of a cropped digit into the MNIST range.

    Parameters
    ----------
    crop : ndarray, shape (H, W)
        Ink image cropped to its bounding box.

    Returns
    -------
    ndarray, shape (H', W')
        The digit at the working resolution with the stroke width changed
        and cropped again, or ``crop`` itself when no change is needed.
    """
    size = float(_WORK_SIZE)
    work = _rescale(crop, size)
    width = _stroke_width(work)
    rel = width / size
    target = _target_relative_width(rel)
    if target is None or width <= 0.0:
        return crop
    if width < _MIN_WORK_WIDTH:
        # Too thin to be resolved at the working size: go finer.
        longer = min(float(_MAX_WORK_SIZE), size * _MIN_WORK_WIDTH / width)
        if longer > size:
            size = longer
            work = _rescale(crop, size)
            width = _stroke_width(work)
    # Skeleton extent (box minus stroke) stays, the width changes:
    # new_width / (extent + new_width) = target.
    extent = max(size - width, 1.0)
    new_width = target * extent / (1.0 - target)
    steps = 0.5 * (new_width - width)
    if steps < 0:
        # never erode a stroke away completely
        steps = max(steps, -0.5 * (width - 1.0))
        if steps > -0.05:
            return crop
    out = _morph(work, steps / _MORPH_GAIN)
    box = _bbox(out, _NOISE_FRACTION * float(out.max()))
    if box is None or float(out.sum()) < 0.1 * float(work.sum()):
        return crop
    r0, r1, c0, c1 = box
    out = out[r0:r1, c0:c1]
    # One correction round: the width estimate is biased for thick curved
    # strokes and the octagonal steps are not perfectly isotropic.
    size = float(max(out.shape))
    width = _stroke_width(out)
    steps = 0.5 * (target * max(size - width, 1.0) / (1.0 - target) - width)
    if abs(steps) > 0.25 and width > 1.0:
        if steps < 0:
            steps = max(steps, -0.5 * (width - 1.0))
        fixed = _morph(out, steps / _MORPH_GAIN)
        box = _bbox(fixed, _NOISE_FRACTION * float(fixed.max()))
        if box is not None and float(fixed.sum()) >= 0.1 * float(work.sum()):
            r0, r1, c0, c1 = box
            out = fixed[r0:r1, c0:c1]
    # Grey-level erosion of soft (blurred) ink takes local minima and so dims
    # the stroke cores; bring the typical core brightness back to 1, as in
    # MNIST, where the middle of a stroke is saturated.
    core = out[out > 0.5 * float(out.max())]
    level = float(np.percentile(core, 75)) if core.size else 1.0
    if 0.0 < level < 0.98:
        out = np.clip(out * np.float32(1.0 / level), 0.0, 1.0)
    return out


# --------------------------------------------------------------------------
# placement
# --------------------------------------------------------------------------


def _center_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity centre of mass (row, col) in pixel coordinates."""
    total = float(img.sum(dtype=np.float64))
    rows = np.arange(img.shape[0], dtype=np.float64)
    cols = np.arange(img.shape[1], dtype=np.float64)
    # (no matrix products: BLAS threads stall under load)
    cy = float((img.sum(axis=1, dtype=np.float64) * rows).sum()) / total
    cx = float((img.sum(axis=0, dtype=np.float64) * cols).sum()) / total
    return cy, cx


def _place(img: np.ndarray, oy: float, ox: float, size: int) -> np.ndarray:
    """Paste ``img`` into a ``size x size`` field at a sub-pixel offset.

    Pixel ``(r, c)`` of ``img`` lands at ``(r + oy, c + ox)``; fractional
    offsets are distributed bilinearly over the four neighbouring pixels
    (a bilinear translation, which moves the centre of mass by exactly
    ``(oy, ox)``).  What falls outside the field is dropped.
    """
    iy = int(math.floor(oy))
    ix = int(math.floor(ox))
    fy = np.float32(oy - iy)
    fx = np.float32(ox - ix)
    h, w = img.shape
    one = np.float32(1.0)
    tmp = np.zeros((h + 1, w + 1), np.float32)
    tmp[:h, :w] += img * ((one - fy) * (one - fx))
    tmp[1:, :w] += img * (fy * (one - fx))
    tmp[:h, 1:] += img * ((one - fy) * fx)
    tmp[1:, 1:] += img * (fy * fx)
    out = np.zeros((size, size), np.float32)
    r0, c0 = max(iy, 0), max(ix, 0)
    r1, c1 = min(iy + h + 1, size), min(ix + w + 1, size)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = tmp[r0 - iy : r1 - iy, c0 - ix : c1 - ix]
    return out


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def to_mnist(image: Any, *, invert: Any = "auto", normalize_stroke: bool = True) -> np.ndarray:
    """Prepare a digit image the way MNIST digits were prepared.

    Steps: convert to grayscale; make the ink white on black (``invert``);
    remove the background level and scale the ink to a maximum of 1; crop
    to the ink's bounding box (ink fainter than 8 % of the maximum is
    treated as noise); optionally normalise the stroke width; scale the
    longer side to 20 px with anti-aliasing, keeping the aspect ratio;
    put it into a 28x28 field with its intensity centre of mass at
    ``(14.0, 14.0)`` (to within 0.01 px: the sub-pixel offset is part of
    the resampling, so centring adds no blur); clip to [0, 1].

    Parameters
    ----------
    image : array_like or PIL.Image.Image
        The picture, any size: ``(H, W)`` grayscale (uint8 0..255 or float
        0..1), ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA (uint8 or float), or a
        PIL image of any mode.
    invert : {"auto", True, False}, default "auto"
        ``"auto"`` takes the background level as the median of the border
        pixels and inverts when the darkest pixel departs farther from it
        than the brightest one, i.e. dark ink on light paper (any shade of
        paper).  ``True`` / ``False`` force the choice (``False`` for
        white-on-black canvases such as the GUI's).
    normalize_stroke : bool, default True
        Dilate thin strokes and erode thick ones so that the stroke width
        relative to the digit's size is in the MNIST range (see
        :data:`STROKE_WIDTH_RANGE`); widths already in range are left alone.

    Returns
    -------
    ndarray, shape (28, 28), float32
        White ink on black, values in [0, 1], centre of mass at pixel
        coordinates (14.0, 14.0) (row, col; pixel centres at integers),
        ink bounding box at most 20 px on its longer side (plus up to one
        pixel of spill from the sub-pixel shift).  As in MNIST, a very
        lopsided shape may touch the field's edge; ink pushed beyond it is
        dropped (then the centre of mass moves by a small fraction of a
        pixel).

    Raises
    ------
    EmptyDrawingError
        If the image holds no ink (blank, or all one value).
    ValueError
        If ``image`` has an unsupported shape, dtype or value range, or
        ``invert`` / ``normalize_stroke`` is not one of the allowed values.
    """
    if not isinstance(normalize_stroke, (bool, np.bool_)):
        raise ValueError(
            f"normalize_stroke must be True or False, got {normalize_stroke!r}"
        )
    gray = _to_gray(image)
    ink = _ink(gray, invert)
    crop = _crop(ink)
    if normalize_stroke:
        crop = _normalize_stroke(crop)
    # Like MNIST, the mass is centred even if a lopsided digit then touches
    # the field's edge (723 MNIST training digits reach the bottom row).
    return _to_field(crop)


def render_strokes(
    strokes: Sequence[Sequence[Sequence[float]]],
    size: int = 280,
    width: float = 18,
) -> np.ndarray:
    """Rasterise polylines as anti-aliased round-capped strokes.

    Parameters
    ----------
    strokes : sequence of array_like, each of shape (m, 2)
        Polylines of ``(x, y)`` points in pixel units: ``x`` grows to the
        right (columns), ``y`` downwards (rows); pixel ``(row, col)`` covers
        ``[col, col + 1) x [row, row + 1)``, so its centre is at
        ``(col + 0.5, row + 0.5)``.  A polyline with one point draws a dot;
        empty polylines are skipped.
    size : int, default 280
        Side of the square output image, in pixels.
    width : float, default 18
        Pen diameter, in pixels.

    Returns
    -------
    ndarray, shape (size, size), float32
        White strokes (1.0) on black (0.0); edges have a 1-px linear
        anti-aliasing ramp, so the ink across a stroke sums to ``width``.

    Raises
    ------
    ValueError
        If ``size`` is not a positive integer, ``width`` is not a positive
        finite number, or a polyline is not an ``(m, 2)`` array of finite
        numbers.
    """
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    try:
        width_f = float(width)
    except (TypeError, ValueError):
        raise ValueError(f"width must be a positive number, got {width!r}") from None
    if not math.isfinite(width_f) or width_f <= 0.0:
        raise ValueError(f"width must be a positive finite number, got {width!r}")
    size = int(size)
    img = np.zeros((size, size), np.float32)
    radius = 0.5 * width_f
    reach = radius + 1.0
    for k, stroke in enumerate(strokes):
        pts = np.asarray(stroke, dtype=np.float64)
        if pts.size == 0:
            continue
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(
                f"strokes[{k}] must be a sequence of (x, y) points with shape "
                f"(m, 2), got shape {pts.shape}"
            )
        if not np.all(np.isfinite(pts)):
            raise ValueError(f"strokes[{k}] must hold finite coordinates, got NaN or inf")
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:]):
            c0 = max(int(math.floor(min(ax, bx) - reach)), 0)
            c1 = min(int(math.ceil(max(ax, bx) + reach)) + 1, size)
            r0 = max(int(math.floor(min(ay, by) - reach)), 0)
            r1 = min(int(math.ceil(max(ay, by) + reach)) + 1, size)
            if c0 >= c1 or r0 >= r1:
                continue
            px = (np.arange(c0, c1, dtype=np.float64) + 0.5)[None, :] - ax
            py = (np.arange(r0, r1, dtype=np.float64) + 0.5)[:, None] - ay
            vx, vy = bx - ax, by - ay
            len2 = vx * vx + vy * vy
            if len2 > 0.0:
                t = np.clip((px * vx + py * vy) / len2, 0.0, 1.0)
                dx = px - t * vx
                dy = py - t * vy
            else:
                dx, dy = px, py
            dist = np.sqrt(dx * dx + dy * dy)
            cover = np.clip(radius + 0.5 - dist, 0.0, 1.0).astype(np.float32)
            window = img[r0:r1, c0:c1]
            np.maximum(window, cover, out=window)
    return img
