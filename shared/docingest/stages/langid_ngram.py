"""A small multinomial naive-Bayes language model over words and character trigrams.

It backs up the fastText model where that is weak: strings of a few words (any language it knows),
and sentences in languages the fastText model does not know (its top probability is then low).
Trained by ``bench/train_langid.py`` (on the langid-dev sentences plus train text; the benchmark
reports only k-fold held-out numbers for it) and shipped as ``data/langid_ngram.json.gz``.
Pure Python: an inverted index n-gram -> {language: log-probability gain over the language's
unseen-n-gram floor}.
"""
from __future__ import annotations

import bisect
import gzip
import json
import math
import re
import struct
from array import array
from collections import Counter, defaultdict
from typing import Iterable

__all__ = ["features", "train", "score", "posterior", "load", "dump", "packed"]

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_ALPHA = 0.1  # additive smoothing
_MIN_GAIN = 0.5
_ORDERS = (3,)


def features(text: str, chars: bool = True) -> list[str]:
    words = _WORD_RE.findall(text.lower())
    out = ["w:" + w for w in words]
    if chars:
        for w in words:
            padded = f" {w} "
            for n in _ORDERS:
                out.extend(padded[i : i + n] for i in range(len(padded) - n + 1) if padded[i : i + n] != " ")
    return out


def train(samples: Iterable[tuple[str, str]], max_per_lang: int = 4000) -> dict:
    """samples: (language, text). Returns the model (a plain dict, JSON-serialisable)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    seen: Counter = Counter()
    for lang, text in samples:
        if seen[lang] >= max_per_lang:
            continue
        seen[lang] += 1
        counts[lang].update(features(text))
    vocab = set()
    for c in counts.values():
        vocab.update(c)
    v = len(vocab) + 1
    langs = sorted(counts)
    floors = []
    index: dict[str, list] = defaultdict(list)
    for i, lang in enumerate(langs):
        c = counts[lang]
        # words and characters are two event spaces: normalise each on its own
        total_w = sum(n for g, n in c.items() if g.startswith("w:"))
        total_c = sum(n for g, n in c.items() if not g.startswith("w:"))
        floor_w = math.log(_ALPHA / (total_w + _ALPHA * v))
        floor_c = math.log(_ALPHA / (total_c + _ALPHA * v))
        floors.append([round(floor_w, 3), round(floor_c, 3)])
        for g, n in c.items():
            is_word = g.startswith("w:")
            logp = math.log((n + _ALPHA) / ((total_w if is_word else total_c) + _ALPHA * v))
            gain = logp - (floor_w if is_word else floor_c)
            if gain >= _MIN_GAIN:
                index[g].append([i, round(gain, 2)])
    return {"version": 1, "langs": langs, "floors": floors, "index": dict(index)}


_SCALE = 0.05  # gains are stored as bytes in steps of 0.05 nats (max 12.75)


def compile_model(model: dict) -> dict:
    """Pack the index for shipping and fast loading: sorted keys, offsets, (uint16 lang, uint8 gain) triples."""
    keys = sorted(model["index"])
    offsets = array("I", [0])
    data = bytearray()
    for key in keys:
        for i, gain in model["index"][key]:
            data += bytes((i & 0xFF, i >> 8, min(255, int(round(gain / _SCALE)))))
        offsets.append(len(data))
    return {"langs": model["langs"], "floors": model["floors"], "keys": keys, "offsets": offsets, "data": bytes(data)}


def dump(model: dict, path: str) -> None:
    packed = compile_model(model)
    header = json.dumps({"version": 1, "langs": packed["langs"], "floors": packed["floors"], "scale": _SCALE})
    keys = "\n".join(packed["keys"]).encode("utf-8")
    offsets = packed["offsets"].tobytes()
    with gzip.open(path, "wb", compresslevel=9) as f:
        for blob in (header.encode("utf-8"), keys, offsets, packed["data"]):
            f.write(struct.pack("<Q", len(blob)))
            f.write(blob)


def load(path: str) -> dict | None:
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    parts = []
    pos = 0
    for _ in range(4):
        (size,) = struct.unpack_from("<Q", raw, pos)
        parts.append(raw[pos + 8 : pos + 8 + size])
        pos += 8 + size
    header = json.loads(parts[0])
    # keys stay UTF-8 bytes (byte order = code-point order): splitting without decoding 300k strings
    # takes half the time, and the load is part of the first call
    keys = parts[1].split(b"\n")
    offsets = array("I")
    offsets.frombytes(parts[2])
    return {"langs": header["langs"], "floors": header["floors"], "scale": header["scale"],
            "keys": keys, "offsets": offsets, "data": parts[3]}


def packed(model: dict) -> dict:
    """An in-memory trained model in the loaded (packed) form, without a file (for cross-validation)."""
    p = compile_model(model)
    return {"langs": p["langs"], "floors": p["floors"], "scale": _SCALE,
            "keys": [k.encode("utf-8") for k in p["keys"]], "offsets": p["offsets"], "data": p["data"]}


def score(model: dict, feats: list[str]) -> list[float]:
    """Log-likelihood of the features under every language (same order as model["langs"])."""
    floors = model["floors"]
    n_words = sum(1 for f in feats if f.startswith("w:"))
    n_chars = len(feats) - n_words
    scores = [n_words * fw + n_chars * fc for fw, fc in floors]
    keys, offsets, data, scale = model["keys"], model["offsets"], model["data"], model["scale"]
    n = len(keys)
    for f in feats:
        # binary search in the sorted keys: no dict to build at load time (load stays ~10x faster)
        f = f.encode("utf-8")
        j = bisect.bisect_left(keys, f)
        if j >= n or keys[j] != f:
            continue
        b = data[offsets[j] : offsets[j + 1]]
        for k in range(0, len(b), 3):
            scores[b[k] | (b[k + 1] << 8)] += b[k + 2] * scale
    return scores


def posterior(model: dict, text: str, chars: bool = True) -> dict[str, float]:
    feats = features(text, chars)
    if not feats:
        return {}
    scores = score(model, feats)
    top = max(scores)
    exp = [math.exp(s - top) for s in scores]
    total = sum(exp)
    return {lang: e / total for lang, e in zip(model["langs"], exp) if e / total > 1e-4}
