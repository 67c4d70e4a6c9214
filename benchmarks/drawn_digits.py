"""How well are digits *drawn on the canvas* recognised? A benchmark set of drawn-like digits.

Two kinds of 280x280 white-on-black canvases, generated deterministically from a seed:

1. MNIST test digits re-rendered the way people draw in the app: at another size (the digit's
   height 25-95 % of the canvas), anywhere on the canvas, with thinner or thicker strokes
   (grey dilation/erosion at canvas resolution) and a small rotation.
2. Synthetic pen strokes: a polyline template per digit, randomly sheared, rotated, stretched
   and jittered, rendered with round caps at pen widths 4-40 px (``render_strokes``).

It reports accuracy for each model under two input pipelines: ``naive`` (the whole canvas
resized to 28x28, as toy apps do) and ``to_mnist`` (the engine's MNIST-style centring,
scaling and stroke-width normalisation).

    python benchmarks/drawn_digits.py                       # bundled MNIST model
    python benchmarks/drawn_digits.py --model a.npz --model b.npz --n 1000
"""
from __future__ import annotations

import argparse
import math

import numpy as np
from PIL import Image, ImageFilter

from mlp_engine import load_dataset, load_model, render_strokes, to_mnist

CANVAS = 280

# Digit templates in a unit box (x right, y down), one or more polylines each.
def _arc(cx, cy, rx, ry, a0, a1, n=24):
    t = np.linspace(math.radians(a0), math.radians(a1), n)
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


TEMPLATES = {
    0: [_arc(0.5, 0.5, 0.3, 0.42, 0, 360, 40)],
    1: [[(0.38, 0.22), (0.55, 0.08), (0.55, 0.92)]],
    2: [_arc(0.5, 0.32, 0.28, 0.24, 200, 380) + [(0.22, 0.9), (0.82, 0.9)]],
    3: [_arc(0.48, 0.3, 0.26, 0.21, 210, 450) + _arc(0.48, 0.7, 0.3, 0.21, 270, 510)],
    4: [[(0.65, 0.92), (0.65, 0.08), (0.15, 0.65), (0.85, 0.65)]],
    5: [[(0.78, 0.1), (0.32, 0.1), (0.28, 0.45)] + _arc(0.5, 0.65, 0.28, 0.26, 220, 500)[3:]],
    6: [_arc(0.7, 0.45, 0.45, 0.42, 250, 180) + _arc(0.5, 0.68, 0.25, 0.22, 180, 540)],
    7: [[(0.18, 0.1), (0.82, 0.1), (0.42, 0.92)]],
    8: [_arc(0.5, 0.28, 0.22, 0.19, 90, 450) + _arc(0.5, 0.7, 0.28, 0.22, 270, 630)],
    9: [_arc(0.48, 0.32, 0.26, 0.22, 0, 360) + [(0.74, 0.32), (0.7, 0.92)]],
}


def rerendered_mnist(images, labels, n, rng):
    """``n`` canvases made from MNIST digits at other sizes, positions and stroke widths."""
    idx = rng.choice(len(images), n, replace=False)
    out = np.zeros((n, CANVAS, CANVAS), dtype=np.float32)
    for k, i in enumerate(idx):
        img = images[i].reshape(28, 28)
        rows, cols = np.nonzero(img > 30)
        crop = img[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        height = int(rng.uniform(0.25, 0.95) * CANVAS)
        width = max(2, int(round(crop.shape[1] * height / crop.shape[0])))
        if width > CANVAS - 4:
            width, height = CANVAS - 4, int((CANVAS - 4) * crop.shape[0] / crop.shape[1])
        pil = Image.fromarray(crop).resize((width, height), Image.BILINEAR)
        pil = pil.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR, expand=True)
        # stroke width as people's pens differ: erode or dilate at canvas resolution
        change = int(rng.integers(-2, 4)) * max(1, height // 60)
        if change > 0:
            pil = pil.filter(ImageFilter.MaxFilter(2 * change + 1))
        elif change < 0:
            pil = pil.filter(ImageFilter.MinFilter(2 * (-change) + 1))
        if max(pil.size) > CANVAS:  # rotation or dilation grew it past the canvas: fit it back
            f = CANVAS / max(pil.size)
            pil = pil.resize((max(1, int(pil.size[0] * f)), max(1, int(pil.size[1] * f))), Image.BILINEAR)
        a = np.asarray(pil, dtype=np.float32) / 255.0
        r0 = int(rng.integers(0, CANVAS - a.shape[0] + 1))
        c0 = int(rng.integers(0, CANVAS - a.shape[1] + 1))
        out[k, r0 : r0 + a.shape[0], c0 : c0 + a.shape[1]] = np.clip(a * 1.3, 0, 1)
    return out, labels[idx]


def synthetic_strokes(n, rng):
    """``n`` canvases of template digits drawn with random pens, sizes, places and distortions."""
    out = np.zeros((n, CANVAS, CANVAS), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    for k, d in enumerate(labels):
        height = rng.uniform(0.3, 0.9) * CANVAS
        aspect = rng.uniform(0.55, 0.95)
        ang = math.radians(rng.uniform(-15, 15))
        shear = rng.uniform(-0.3, 0.3)
        A = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]]) @ np.array(
            [[height * aspect, shear * height], [0.0, height]]
        )
        pen = float(rng.uniform(4, 40))
        strokes = []
        for line in TEMPLATES[int(d)]:
            p = np.asarray(line) - 0.5
            p = p + rng.normal(0, 0.015, p.shape)
            strokes.append(p @ A.T)
        pts = np.concatenate(strokes)
        lo, hi = pts.min(0) - pen, pts.max(0) + pen
        room = np.maximum(CANVAS - (hi - lo), 0)
        offset = -lo + rng.uniform(0, 1, 2) * room
        out[k] = render_strokes([s + offset for s in strokes], size=CANVAS, width=pen)
    return out, labels


def drawn_set(n=1000, seed=0):
    """Half re-rendered MNIST test digits, half synthetic strokes: ``(canvases, labels)``."""
    rng = np.random.default_rng(seed)
    d = load_dataset("mnist")
    a, la = rerendered_mnist(d.X_test, d.y_test, n // 2, rng)
    b, lb = synthetic_strokes(n - n // 2, rng)
    return np.concatenate([a, b]), np.concatenate([la, lb])


def naive(canvas):
    return np.asarray(Image.fromarray((canvas * 255).astype(np.uint8)).resize((28, 28), Image.BILINEAR), dtype=np.float32) / 255


PIPELINES = {"naive": naive, "to_mnist": to_mnist}


def accuracy(net, canvases, labels, pipeline):
    X = np.stack([PIPELINES[pipeline](c).reshape(-1) for c in canvases]) * 255
    return float(np.mean(net.predict(X, preprocessed=False) == labels))


def main():
    from mlp_studio_resources import resource_path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", help="model file(s); default: the bundled MNIST model")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-samples", help="write a PNG grid of some canvases here")
    a = ap.parse_args()
    canvases, labels = drawn_set(a.n, a.seed)
    if a.save_samples:
        grid = np.concatenate([np.concatenate(list(canvases[r * 8 : r * 8 + 8]), axis=1) for r in range(0, 4)] + [
            np.concatenate(list(canvases[a.n // 2 + r * 8 : a.n // 2 + r * 8 + 8]), axis=1) for r in range(4)
        ])
        Image.fromarray((grid * 255).astype(np.uint8)).resize((grid.shape[1] // 4, grid.shape[0] // 4)).save(a.save_samples)
    half = a.n // 2
    print(f"drawn-digit set: {a.n} canvases ({half} re-rendered MNIST test digits, {a.n - half} synthetic strokes), seed {a.seed}")
    print("| model | MNIST test | drawn, naive resize | drawn, to_mnist | re-rendered part | synthetic part |")
    print("|---|---|---|---|---|---|")
    d = load_dataset("mnist")
    for path in a.model or [str(resource_path("models", "mnist.npz"))]:
        net = load_model(path, expect_inputs=784)
        test = float(np.mean(net.predict(d.X_test, preprocessed=False) == d.y_test))
        nv = accuracy(net, canvases, labels, "naive")
        tm = accuracy(net, canvases, labels, "to_mnist")
        p1 = accuracy(net, canvases[:half], labels[:half], "to_mnist")
        p2 = accuracy(net, canvases[half:], labels[half:], "to_mnist")
        print(f"| {path} | {test:.4f} | {nv:.4f} | {tm:.4f} | {p1:.4f} | {p2:.4f} |")


if __name__ == "__main__":
    main()
