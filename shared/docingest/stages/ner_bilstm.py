"""Contextual named-entity tagger: a small BiLSTM-CRF run with numpy only (no torch at run time).

The shipped models are ``docingest/data/ner/<lang>.bilstm.npz`` (``id`` and ``pt``), written by
``bench/ner_contextual/train_contextual.py --final``: a compressed ``.npz`` of float16 arrays named as the
torch state dict of the training script, plus ``meta``, the UTF-8 JSON of the vocabularies (words,
characters, shapes), the tag list, the layer sizes and the character window.

Per token the input is the concatenation of

- a word embedding of ``ner_crf.normalise_word(word)`` (index 1: unknown, 0: padding);
- a character CNN (width 3, zero padding 1, ReLU, max over the window) over the first 8 + last 8
  characters of the original word (the whole word when it has at most 16), the window padded to 16;
- an embedding of ``ner_crf.short_shape(word)``;
- an embedding of the longest-match gazetteer label (``ner_crf.FeatureExtractor.gazetteer_tags``, the
  shared gazetteer);
- an embedding of the sentence casing (1 all lower case, 2 all upper case, 3 mixed);

then one bidirectional LSTM layer, a linear layer to the BIO tags and Viterbi decoding with the learned
CRF transitions. ``ner_crf.load_tagger`` uses this tagger for the languages it ships for and falls back
to the CRF when the file is missing or unreadable or numpy is not importable.

Only the standard library is imported with this module; numpy is imported by ``load_bilstm``.
"""
from __future__ import annotations

import json
from pathlib import Path

FORMAT = 1
_REQUIRED = (
    "word.weight", "char.weight", "conv.weight", "conv.bias", "shape.weight", "gaz.weight", "case.weight",
    "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
    "lstm.weight_ih_l0_reverse", "lstm.weight_hh_l0_reverse", "lstm.bias_ih_l0_reverse",
    "lstm.bias_hh_l0_reverse", "out.weight", "out.bias", "trans", "start", "end",
)


def model_path(model_dir: Path, model_lang: str) -> Path:
    return model_dir / f"{model_lang}.bilstm.npz"


class BiLstmTagger:
    """The ``CrfTagger`` interface (``tag_sentence``, ``tag_document``) over one BiLSTM-CRF model."""

    backend = "bilstm"

    def __init__(self, arrays: dict, meta: dict, gazetteer: dict[str, str], batch: int = 64):
        import numpy as np

        from docingest.stages.ner_crf import FeatureExtractor

        self.np = np
        self.tags: list[str] = list(meta["tags"])
        self.max_chars = int(meta["max_chars"])
        self.hidden = int(meta["dims"]["hidden"])
        self.word_index = {w: i + 2 for i, w in enumerate(meta["vocab"])}  # 0 padding, 1 unknown
        self.char_index = {c: i + 2 for i, c in enumerate(meta["chars"])}
        self.shape_index = {s: i + 2 for i, s in enumerate(meta["shapes"])}
        self.gaz_index = {g: i + 2 for i, g in enumerate(meta["gaz_labels"])}  # 1: no gazetteer label
        self.gaz = FeatureExtractor(None, gazetteer)
        self.batch = batch
        self._cache: dict[str, tuple] = {}
        w = {k: np.asarray(arrays[k], dtype=np.float32) for k in _REQUIRED}
        self.w = w
        self.crf = [w[k].astype(np.float64) for k in ("trans", "start", "end")]
        conv = w["conv.weight"]  # (filters, char dim, 3)
        self.conv_taps = [np.ascontiguousarray(conv[:, :, k].T) for k in range(3)]
        self.wi_f = np.ascontiguousarray(w["lstm.weight_ih_l0"].T)
        self.wi_r = np.ascontiguousarray(w["lstm.weight_ih_l0_reverse"].T)
        self.b_f = w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"]
        self.b_r = w["lstm.bias_ih_l0_reverse"] + w["lstm.bias_hh_l0_reverse"]
        self.wh_f = np.ascontiguousarray(w["lstm.weight_hh_l0"].T)
        self.wh_r = np.ascontiguousarray(w["lstm.weight_hh_l0_reverse"].T)
        self.w_out = np.ascontiguousarray(w["out.weight"].T)
        n = self.hidden
        scale = np.full(4 * n, 0.5, dtype=np.float32)
        scale[2 * n:3 * n] = 1.0  # gates i, f, o: sigmoid(x) = 0.5 + 0.5 tanh(x / 2); cell input g: tanh
        self.scale = scale
        self._check()

    def _check(self) -> None:
        w, n = self.w, self.hidden
        size = (w["word.weight"].shape[1] + w["conv.weight"].shape[0] + w["shape.weight"].shape[1]
                + w["gaz.weight"].shape[1] + w["case.weight"].shape[1])
        problems = [
            w["word.weight"].shape[0] != len(self.word_index) + 2,
            w["char.weight"].shape[0] != len(self.char_index) + 2,
            w["shape.weight"].shape[0] != len(self.shape_index) + 2,
            w["gaz.weight"].shape[0] != len(self.gaz_index) + 2,
            w["conv.weight"].shape[1:] != (w["char.weight"].shape[1], 3),
            self.wi_f.shape != (size, 4 * n) or self.wi_r.shape != (size, 4 * n),
            self.wh_f.shape != (n, 4 * n) or self.wh_r.shape != (n, 4 * n),
            self.w_out.shape != (2 * n, len(self.tags)),
            self.crf[0].shape != (len(self.tags), len(self.tags)),
            not all(bool(self.np.isfinite(a).all()) for a in w.values()),
        ]
        if any(problems):
            raise ValueError("inconsistent BiLSTM model arrays")

    # ------------------------------------------------------------ encoding (as the training Encoder)

    def _word(self, word: str) -> tuple:
        from docingest.stages.ner_crf import normalise_word, short_shape

        hit = self._cache.get(word)
        if hit is None:
            half = self.max_chars // 2
            chars = word if len(word) <= self.max_chars else word[:half] + word[-half:]
            hit = (self.word_index.get(normalise_word(word), 1),
                   [self.char_index.get(c, 1) for c in chars],
                   self.shape_index.get(short_shape(word), 1))
            if len(self._cache) < 300_000:
                self._cache[word] = hit
        return hit

    def encode(self, words: list[str]) -> tuple:
        info = [self._word(w) for w in words]
        gaz = [1 if g is None else self.gaz_index.get(g, 1) for g in self.gaz.gazetteer_tags(words)]
        letters = "".join(words)
        case = 1 if letters == letters.lower() else (2 if letters == letters.upper() else 3)
        return [i[0] for i in info], [i[1] for i in info], [i[2] for i in info], gaz, case

    # ------------------------------------------------------------ forward pass

    def emissions(self, encoded: list[tuple]):
        """Tag scores (batch, length, tags), float64, for encoded sentences (padded to the longest)."""
        np = self.np
        w = self.w
        b = len(encoded)
        length = max(len(e[0]) for e in encoded)
        words = np.zeros((b, length), dtype=np.int64)
        chars = np.zeros((b, length, self.max_chars), dtype=np.int64)
        shapes = np.zeros((b, length), dtype=np.int64)
        gaz = np.zeros((b, length), dtype=np.int64)
        case = np.zeros((b,), dtype=np.int64)
        lengths = np.zeros((b,), dtype=np.int64)
        for k, (wd, ch, sh, gz, cs) in enumerate(encoded):
            m = len(wd)
            words[k, :m] = wd
            shapes[k, :m] = sh
            gaz[k, :m] = gz
            case[k] = cs
            lengths[k] = m
            for t, c in enumerate(ch):
                chars[k, t, :len(c)] = c
        ce = w["char.weight"][chars.reshape(b * length, self.max_chars)]  # (tokens, window, char dim)
        padded = np.pad(ce, ((0, 0), (1, 1), (0, 0)))
        t0, t1, t2 = self.conv_taps
        conv = padded[:, :-2] @ t0 + padded[:, 1:-1] @ t1 + padded[:, 2:] @ t2 + w["conv.bias"]
        char_features = np.maximum(conv, 0).max(axis=1).reshape(b, length, -1)
        case_emb = w["case.weight"][case]
        x = np.concatenate([w["word.weight"][words], char_features, w["shape.weight"][shapes],
                            w["gaz.weight"][gaz], np.broadcast_to(case_emb[:, None, :], (b, length, case_emb.shape[1]))],
                           axis=2)
        n = self.hidden
        pre_f = x @ self.wi_f + self.b_f
        pre_r = x @ self.wi_r + self.b_r
        mask = (np.arange(length)[None, :] < lengths[:, None]).astype(np.float32)[:, :, None]
        h = np.zeros((2 * b, n), dtype=np.float32)  # rows [:b] forward at t, rows [b:] backward at length-1-t
        cell = np.zeros((2 * b, n), dtype=np.float32)
        hs_f = np.zeros((b, length, n), dtype=np.float32)
        hs_r = np.zeros((b, length, n), dtype=np.float32)
        g = np.empty((2 * b, 4 * n), dtype=np.float32)
        for t in range(length):
            r = length - 1 - t
            np.add(pre_f[:, t], h[:b] @ self.wh_f, out=g[:b])
            np.add(pre_r[:, r], h[b:] @ self.wh_r, out=g[b:])
            a = np.tanh(g * self.scale)
            a[:, :2 * n] = 0.5 + 0.5 * a[:, :2 * n]
            a[:, 3 * n:] = 0.5 + 0.5 * a[:, 3 * n:]
            new_c = a[:, n:2 * n] * cell + a[:, :n] * a[:, 2 * n:3 * n]
            new_h = a[:, 3 * n:] * np.tanh(new_c)
            m = np.concatenate([mask[:, t], mask[:, r]])  # padding steps leave the state unchanged
            cell = cell + m * (new_c - cell)
            h = h + m * (new_h - h)
            hs_f[:, t] = h[:b]
            hs_r[:, r] = h[b:]
        hidden = np.concatenate([hs_f, hs_r], axis=2)
        return (hidden @ self.w_out + w["out.bias"]).astype(np.float64)

    def viterbi(self, em) -> list[int]:
        np = self.np
        trans, start, end = self.crf
        n = len(em)
        score = start + em[0]
        back = np.zeros((n, len(start)), dtype=np.int64)
        for i in range(1, n):
            total = score[:, None] + trans
            back[i] = total.argmax(0)
            score = total.max(0) + em[i]
        score = score + end
        best = [int(score.argmax())]
        for i in range(n - 1, 0, -1):
            best.append(int(back[i, best[-1]]))
        return best[::-1]

    # ------------------------------------------------------------ the CrfTagger interface

    def tag_sentences(self, sentences: list[list[str]]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in sentences]
        items = sorted(((i, s) for i, s in enumerate(sentences) if s), key=lambda x: len(x[1]))
        for first in range(0, len(items), self.batch):
            chunk = items[first:first + self.batch]
            em = self.emissions([self.encode(list(s)) for _, s in chunk])
            for k, (i, s) in enumerate(chunk):
                out[i] = [self.tags[j] for j in self.viterbi(em[k, :len(s)])]
        return out

    def tag_sentence(self, words: list[str]) -> list[str]:
        return self.tag_sentences([list(words)])[0]

    def tag_document(self, sentences: list[list[str]]) -> list[list[str]]:
        """BIO tags per token of every sentence, then ``ner_crf.harmonise_document`` as for the CRF."""
        from docingest.stages.ner_crf import harmonise_document

        return harmonise_document(sentences, self.tag_sentences([list(s) for s in sentences]))


def load_bilstm(path: Path, gazetteer: dict[str, str]) -> BiLstmTagger:
    """The tagger of one exported model file; raises (ImportError, OSError, ValueError, KeyError...)
    when numpy is missing or the file is absent, unreadable or inconsistent."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"unknown BiLSTM model format {meta.get('format')!r} in {path}")
    return BiLstmTagger(arrays, meta, gazetteer)
