"""Confidence calibration for language identification: isotonic maps from raw score to accuracy.

One monotone piecewise-linear map per kind of input ("long": sentences and longer, "short": a few
words, "script": decided by a writing system that only one language uses). Fitted by
``bench/train_langid.py`` (pool-adjacent-violators over quantile bins) and shipped as
``docingest/data/langid_calibration.json``; pure Python, no numpy.
"""
from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Iterable

__all__ = ["fit", "apply", "load", "DEFAULT_PATH"]

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "langid_calibration.json"
_BINS = 25


def _pav(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Pool adjacent violators over (x, y, weight), y non-decreasing in x."""
    blocks: list[list[float]] = []  # [sum_wx, sum_wy, sum_w]
    for x, y, w in points:
        blocks.append([x * w, y * w, w])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            b = blocks.pop()
            for i in range(3):
                blocks[-1][i] += b[i]
    return [(bx / bw, by / bw, bw) for bx, by, bw in blocks]


def fit(rows: Iterable[tuple[str, float, str, bool]]) -> dict:
    """rows: (language, raw confidence, kind, correct). "und" rows are not calibrated (confidence 0)."""
    by_kind: dict[str, list[tuple[float, bool]]] = {}
    for lang, conf, kind, ok in rows:
        if lang != "und":
            by_kind.setdefault(kind, []).append((conf, ok))
    params: dict = {"version": 1, "maps": {}}
    for kind, pairs in by_kind.items():
        pairs.sort(key=lambda pair: pair[0])  # by score only: ties keep their (mixed) order
        n = len(pairs)
        size = max(1, n // _BINS)
        points: list[tuple[float, float, float]] = []
        for start in range(0, n, size):
            chunk = pairs[start : start + size]
            x = sum(c for c, _ in chunk) / len(chunk)
            y = sum(o for _, o in chunk) / len(chunk)
            w = float(len(chunk))
            if points and abs(points[-1][0] - x) < 1e-9:  # same score: one point
                px, py, pw = points[-1]
                points[-1] = (x, (py * pw + y * w) / (pw + w), pw + w)
            else:
                points.append((x, y, w))
        pooled = _pav(points)
        params["maps"][kind] = {"x": [round(x, 5) for x, _, _ in pooled], "y": [round(y, 5) for _, y, _ in pooled],
                                "n": n}
    return params


def apply(params: dict, conf: float, kind: str) -> float:
    mapping = params["maps"].get(kind) or params["maps"].get("long")
    if not mapping:
        return min(1.0, max(0.0, conf))
    xs, ys = mapping["x"], mapping["y"]
    if conf <= xs[0]:
        value = ys[0]
    elif conf >= xs[-1]:
        value = ys[-1]
    else:
        i = bisect.bisect_right(xs, conf)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        value = y0 + (y1 - y0) * (conf - x0) / (x1 - x0) if x1 > x0 else y1
    return min(1.0, max(0.0, value))


def load(path: Path | str = DEFAULT_PATH) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
