"""The single place where Qt images and NumPy arrays are converted into each other.

Qt stores image rows padded to a multiple of 4 bytes (``bytesPerLine``), so a 28-pixel-wide
grayscale image has 28 bytes of pixels and 0 bytes of padding, but a 30-pixel-wide one has 2.
Every conversion here honours that stride; getting it wrong gives sheared images, which is why
no other module does these conversions itself.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

__all__ = ["array_to_qimage", "qimage_to_array", "to_uint8"]


def to_uint8(a: np.ndarray) -> np.ndarray:
    """Pixels as uint8: uint8 is kept, floats in [0, 1] are scaled by 255 and rounded.

    Parameters
    ----------
    a : numpy.ndarray
        uint8 (0..255) or float (0..1; values outside are clipped).

    Returns
    -------
    numpy.ndarray
        uint8 array of the same shape (a new C-contiguous array for floats).
    """
    a = np.asarray(a)
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind == "f":
        return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    if a.dtype.kind in "iub":
        return np.clip(a, 0, 255).astype(np.uint8)
    raise TypeError(f"array_to_qimage: unsupported dtype {a.dtype}; give uint8 (0..255) or float (0..1)")


def array_to_qimage(a: np.ndarray) -> QImage:
    """A QImage that owns a copy of ``a``'s pixels.

    Parameters
    ----------
    a : numpy.ndarray
        ``(h, w)`` grayscale, or ``(h, w, 3)`` RGB; uint8 (0..255) or float in [0, 1].

    Returns
    -------
    QImage
        ``Format_Grayscale8`` for 2-D input, ``Format_RGB888`` for RGB input. The image owns
        its buffer, so ``a`` may be changed or freed afterwards.

    Raises
    ------
    ValueError
        For any other shape.
    """
    a = np.asarray(a)
    if a.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif a.ndim == 3 and a.shape[2] == 3:
        fmt, channels = QImage.Format.Format_RGB888, 3
    else:
        raise ValueError(f"array_to_qimage: expected an (h, w) or (h, w, 3) array, got shape {a.shape}")
    h, w = a.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"array_to_qimage: empty image of shape {a.shape}")
    data = np.ascontiguousarray(to_uint8(a))
    # The QImage constructor only borrows the buffer; .copy() makes it own its pixels, so the
    # image stays valid after `data` is garbage-collected.
    return QImage(data.data, w, h, w * channels, fmt).copy()


def qimage_to_array(img: QImage) -> np.ndarray:
    """The pixels of ``img`` as a 2-D uint8 grayscale array ``(height, width)`` (a copy).

    Any format is accepted; colour images are converted to grayscale by Qt first.
    """
    if img.isNull():
        raise ValueError("qimage_to_array: the image is null (empty)")
    if img.format() != QImage.Format.Format_Grayscale8:
        img = img.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * stride)
    return buf.reshape(h, stride)[:, :w].copy()
