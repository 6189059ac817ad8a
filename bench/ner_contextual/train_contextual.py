"""Experiment: a small contextual NER tagger (char-CNN + BiLSTM + CRF, PyTorch) against the shipped CRF.

    cd /work/main
    .venv/bin/python -m pip install torch==2.13.0          # training/experiment only, never a run-time dep
    .venv/bin/python bench/ner_contextual/train_contextual.py                 # prepare, train 3 models, score
    .venv/bin/python bench/ner_contextual/train_contextual.py --eval-only     # re-score the models in --out
    .venv/bin/python bench/ner_contextual/train_contextual.py --minutes 20 --out /tmp/ner-contextual
    # the shipped models: all training sentences, FINAL_SCHEDULES, exported for docingest.stages.ner_bilstm
    .venv/bin/python bench/ner_contextual/train_contextual.py --final --models id --out /tmp/ner-final
    .venv/bin/python bench/ner_contextual/train_contextual.py --final --models pt --out /tmp/ner-final
    cp /tmp/ner-final/{id,pt}.bilstm.npz shared/docingest/data/ner/

Models (one per line of the comparison; weights go to --out, default /tmp/ner-contextual, not to git):
- ``id``: bench/train_ner.py's ``training_sentences("id")`` (pipeline tokens, projected gold spans),
  scored on the dev sets of id-idner-news-2k, id-indolem-nerugm, id-indolem-nerui;
- ``id-heldout``: ``training_sentences("id", exclude_fold=True)`` with the gazetteer rebuilt without fold 0,
  as bench/quality_ner.py's held-out variant, scored on NERGRIT train fold 0;
- ``pt``: ``training_sentences("pt")``, scored on pt-wikiann dev and pt-harem-first dev (PER/ORG/LOC).

Inputs per token: a word embedding (normalised word, ner_crf.normalise_word) initialised from 64-dim
PPMI-SVD vectors computed exactly as train_ner.build_clusters computes them before k-means (unlabeled text +
the language's training texts), a character CNN over the original word, the short shape
(ner_crf.short_shape), the longest-match gazetteer label (ner_crf.FeatureExtractor.gazetteer_tags; two-fold
jackknifed gazetteers in training, as for the CRF) and the sentence casing (lower/upper/mixed).
One BiLSTM layer (100 per direction), a linear layer to the 9 BIO tags and a linear-chain CRF.
Adam, batches of 32 sentences, early stopping on a 4% slice of the training sentences carved out by
hash (never the reported dev sets), a wall-clock budget per model (--minutes), torch.set_num_threads(1).

Scoring is bench/quality_ner.py's: each record's raw text through the extract_entities stage for the dev
sets (the contextual tagger is swapped into ner_crf's tagger cache for its run, so tokenisation, sentence
splitting, document harmonisation, the capitalised-common-word filter, dates and offsets are identical),
and quality_ner.tagger_extractor for the NERGRIT held-out fold (as quality_ner does for the CRF there).
Entity-level exact match on character spans, micro P/R/F1, the types each set annotates.
Tokens/s: CPU time of the extraction (whole stage incl. tokenisation) over the tokens, one thread; the
contextual model is run twice, with torch and with a pure-numpy forward pass of the same weights.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import inspect
import json
import os
import pickle
import random
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread: numpy as torch
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "bench"))

import quality_ner  # noqa: E402
import train_ner  # noqa: E402
from docingest.stages import ner_crf  # noqa: E402

SEED = 13
TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
GAZ_LABELS = [None] + TAGS[1:]  # index + 1 (0 is padding)
MAX_CHARS = 16
DIMS = {"word": 64, "char": 24, "char_filters": 64, "shape": 16, "gaz": 16, "case": 4, "hidden": 100}

# ---------------------------------------------------------------- resources


def svd_vectors(lang: str) -> tuple[list[str], np.ndarray]:
    """The 64-dim unit vectors of train_ner.build_clusters (same corpus, PPMI, SVD, seed), before k-means."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import svds

    lines = train_ner.cluster_corpus(lang)
    counts = Counter(w for line in lines for w in line)
    vocab = [w for w, c in counts.most_common(train_ner.CLUSTER_VOCAB) if c >= 2]
    index = {w: i for i, w in enumerate(vocab)}
    ids = []
    for line in lines:
        ids.extend(index.get(w, -1) for w in line)
        ids.append(-2)
    arr = np.array(ids, dtype=np.int64)
    n_ctx = min(train_ner.CLUSTER_CONTEXTS, len(vocab))
    rows, cols = [], []
    for offset in (-2, -1, 1, 2):
        if offset < 0:
            w, c = arr[-offset:], arr[:offset]
        else:
            w, c = arr[:-offset], arr[offset:]
        side = 0 if offset < 0 else n_ctx
        ok = (w >= 0) & (c >= 0) & (c < n_ctx)
        if abs(offset) == 2:
            ok = ok & (arr[1:-1] != -2)
        rows.append(w[ok])
        cols.append(c[ok] + side)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    mat = coo_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(len(vocab), 2 * n_ctx)).tocsr()
    mat.sum_duplicates()
    total = mat.sum()
    row_sum = np.asarray(mat.sum(axis=1)).ravel()
    col_sum = np.asarray(mat.sum(axis=0)).ravel() ** 0.75
    col_sum = col_sum / col_sum.sum() * total
    mat = mat.tocoo()
    pmi = np.log(mat.data * total / (row_sum[mat.row] * col_sum[mat.col] + 1e-9) + 1e-12)
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (mat.row[keep], mat.col[keep])), shape=mat.shape).tocsr()
    rng = np.random.default_rng(SEED)
    u, s, _ = svds(ppmi, k=64, v0=rng.standard_normal(min(ppmi.shape)), random_state=SEED)
    vectors = u * np.sqrt(s)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    return vocab, vectors.astype(np.float32)


def cached(path: Path, build):
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(value, f)
    return value


def crf_cache_dir(base: Path) -> Path:
    """quality_ner.py's cache directory of the held-out CRF (same key computation)."""
    recipe = repr(train_ner.CRF_PARAMS) + repr(train_ner.RETOKENIZE)
    for function in (ner_crf.FeatureExtractor, ner_crf.word_shape, ner_crf.short_shape, ner_crf.normalise_word,
                     ner_crf.strip_accents, train_ner.select_gazetteer, train_ner.record_sentences,
                     train_ner.training_sentences, train_ner.document_sentences, train_ner.train_model,
                     train_ner.jackknife_fold, train_ner.gazetteer_counts):
        recipe += inspect.getsource(function)
    return base / hashlib.sha256(recipe.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------- encoding


class Encoder:
    """Words, characters, shapes, gazetteer labels and sentence casing to index arrays."""

    def __init__(self, vocab: list[str], chars: list[str], shapes: list[str], gazetteer: dict):
        self.vocab = vocab
        self.word_index = {w: i + 2 for i, w in enumerate(vocab)}  # 0 pad, 1 unknown
        self.chars = chars
        self.char_index = {c: i + 2 for i, c in enumerate(chars)}
        self.shapes = shapes
        self.shape_index = {s: i + 2 for i, s in enumerate(shapes)}
        self.gaz = ner_crf.FeatureExtractor(None, gazetteer)
        self._cache: dict[str, tuple] = {}

    def with_gazetteer(self, gazetteer: dict) -> "Encoder":
        other = Encoder.__new__(Encoder)
        other.__dict__.update(self.__dict__)
        other.gaz = ner_crf.FeatureExtractor(None, gazetteer)
        return other

    def word(self, w: str) -> tuple:
        hit = self._cache.get(w)
        if hit is None:
            chars = w if len(w) <= MAX_CHARS else w[:MAX_CHARS // 2] + w[-MAX_CHARS // 2:]
            hit = (self.word_index.get(ner_crf.normalise_word(w), 1),
                   [self.char_index.get(c, 1) for c in chars],
                   self.shape_index.get(ner_crf.short_shape(w), 1))
            if len(self._cache) < 300_000:
                self._cache[w] = hit
        return hit

    def sentence(self, words: list[str]) -> tuple:
        info = [self.word(w) for w in words]
        gaz = [GAZ_LABELS.index(g) + 1 for g in self.gaz.gazetteer_tags(words)]
        letters = "".join(words)
        case = 1 if letters == letters.lower() else (2 if letters == letters.upper() else 3)
        return [i[0] for i in info], [i[1] for i in info], [i[2] for i in info], gaz, case


def collate(encoded: list[tuple]):
    n = len(encoded)
    length = max(len(e[0]) for e in encoded)
    words = np.zeros((n, length), dtype=np.int64)
    chars = np.zeros((n, length, MAX_CHARS), dtype=np.int64)
    shapes = np.zeros((n, length), dtype=np.int64)
    gaz = np.zeros((n, length), dtype=np.int64)
    case = np.zeros((n,), dtype=np.int64)
    lengths = np.zeros((n,), dtype=np.int64)
    for b, (w, c, s, g, k) in enumerate(encoded):
        m = len(w)
        words[b, :m] = w
        shapes[b, :m] = s
        gaz[b, :m] = g
        case[b] = k
        lengths[b] = m
        for t, cs in enumerate(c):
            chars[b, t, :len(cs)] = cs
    return words, chars, shapes, gaz, case, lengths


# ---------------------------------------------------------------- model (torch, training and reference inference)


def build_model(n_words: int, n_chars: int, n_shapes: int, vectors: np.ndarray | None = None):
    import torch
    from torch import nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            d = DIMS
            self.word = nn.Embedding(n_words, d["word"], padding_idx=0)
            if vectors is not None:
                with torch.no_grad():
                    self.word.weight.normal_(0, 0.1)
                    self.word.weight[0].zero_()
                    self.word.weight[2:2 + len(vectors)] = torch.from_numpy(vectors)
            self.char = nn.Embedding(n_chars, d["char"], padding_idx=0)
            self.conv = nn.Conv1d(d["char"], d["char_filters"], 3, padding=1)
            self.shape = nn.Embedding(n_shapes, d["shape"], padding_idx=0)
            self.gaz = nn.Embedding(len(GAZ_LABELS) + 1, d["gaz"], padding_idx=0)
            self.case = nn.Embedding(4, d["case"])
            size = d["word"] + d["char_filters"] + d["shape"] + d["gaz"] + d["case"]
            self.lstm = nn.LSTM(size, d["hidden"], batch_first=True, bidirectional=True)
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(2 * d["hidden"], len(TAGS))
            self.trans = nn.Parameter(torch.zeros(len(TAGS), len(TAGS)))  # [from, to]
            self.start = nn.Parameter(torch.zeros(len(TAGS)))
            self.end = nn.Parameter(torch.zeros(len(TAGS)))

        def emissions(self, words, chars, shapes, gaz, case, lengths):
            b, l, c = chars.shape
            ch = self.char(chars.view(b * l, c)).transpose(1, 2)  # (b*l, dim, c)
            ch = torch.relu(self.conv(ch)).max(dim=2).values.view(b, l, -1)
            x = torch.cat([self.word(words), ch, self.shape(shapes), self.gaz(gaz),
                           self.case(case)[:, None, :].expand(b, l, -1)], dim=2)
            x = self.drop(x)
            if bool((lengths == l).all()):  # no padding (one sentence, or equal lengths): packing not needed
                h, _ = self.lstm(x)
            else:
                packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                                           enforce_sorted=False)
                h, _ = self.lstm(packed)
                h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=l)
            return self.out(self.drop(h))

        def nll(self, em, tags, mask):
            """Mean negative log-likelihood of the gold tags under the linear-chain CRF."""
            b, l, t = em.shape
            maskf = mask.float()
            score = self.start[tags[:, 0]] + em[:, 0].gather(1, tags[:, :1]).squeeze(1)
            for i in range(1, l):
                step = self.trans[tags[:, i - 1], tags[:, i]] + em[:, i].gather(1, tags[:, i:i + 1]).squeeze(1)
                score = score + step * maskf[:, i]
            last = tags.gather(1, (mask.sum(1) - 1)[:, None]).squeeze(1)
            score = score + self.end[last]
            alpha = self.start[None, :] + em[:, 0]
            for i in range(1, l):
                nxt = torch.logsumexp(alpha[:, :, None] + self.trans[None] + em[:, i][:, None, :], dim=1)
                alpha = torch.where(mask[:, i:i + 1], nxt, alpha)
            log_z = torch.logsumexp(alpha + self.end[None], dim=1)
            return (log_z - score).mean()

    return Tagger()


def viterbi(em: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[int]:
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


class TorchTagger:
    """The contextual model behind ner_crf.CrfTagger's interface (tag_sentence / tag_document)."""

    def __init__(self, model, encoder: Encoder, batch: int = 64):
        import torch

        self.torch = torch
        self.model = model.eval()
        self.encoder = encoder
        self.batch = batch
        self.crf = [p.detach().numpy().astype(np.float64) for p in (model.trans, model.start, model.end)]

    def emissions(self, encoded: list[tuple]) -> np.ndarray:
        torch = self.torch
        arrays = [torch.from_numpy(a) for a in collate(encoded)]
        with torch.inference_mode():
            return self.model.emissions(*arrays).numpy().astype(np.float64)

    def tag_sentences(self, sentences: list[list[str]]) -> list[list[str]]:
        out: list[list[str] | None] = [None] * len(sentences)
        items = [(i, s) for i, s in enumerate(sentences) if s]
        for i, s in enumerate(sentences):
            if not s:
                out[i] = []
        items.sort(key=lambda x: len(x[1]))
        for first in range(0, len(items), self.batch):
            chunk = items[first:first + self.batch]
            em = self.emissions([self.encoder.sentence(list(s)) for _, s in chunk])
            for b, (i, s) in enumerate(chunk):
                out[i] = [TAGS[k] for k in viterbi(em[b, :len(s)], *self.crf)]
        return out  # type: ignore[return-value]

    def tag_sentence(self, words: list[str]) -> list[str]:
        return self.tag_sentences([words])[0]

    def tag_document(self, sentences: list[list[str]]) -> list[list[str]]:
        return ner_crf.harmonise_document(sentences, self.tag_sentences([list(s) for s in sentences]))


class NumpyTagger(TorchTagger):
    """The same weights, forward pass in numpy only (what a torch-free run-time would execute)."""

    def __init__(self, model, encoder: Encoder, batch: int = 64):
        sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
        self.sd = sd
        self.encoder = encoder
        self.batch = batch
        self.crf = [sd[k].astype(np.float64) for k in ("trans", "start", "end")]
        self.conv_w = sd["conv.weight"]  # (filters, char_dim, 3)
        self.h = DIMS["hidden"]

    def emissions(self, encoded: list[tuple]) -> np.ndarray:
        sd = self.sd
        words, chars, shapes, gaz, case, lengths = collate(encoded)
        b, l, c = chars.shape
        ce = sd["char.weight"][chars.reshape(b * l, c)]  # (n, c, dim)
        padded = np.pad(ce, ((0, 0), (1, 1), (0, 0)))
        w = self.conv_w
        conv = (padded[:, :-2] @ w[:, :, 0].T + padded[:, 1:-1] @ w[:, :, 1].T + padded[:, 2:] @ w[:, :, 2].T
                + sd["conv.bias"])
        ch = np.maximum(conv, 0).max(axis=1).reshape(b, l, -1)
        x = np.concatenate([sd["word.weight"][words], ch, sd["shape.weight"][shapes], sd["gaz.weight"][gaz],
                            np.broadcast_to(sd["case.weight"][case][:, None, :], (b, l, DIMS["case"]))], axis=2)
        mask = (np.arange(l)[None, :] < lengths[:, None]).astype(np.float32)[:, :, None]
        n = self.h
        # both directions in one loop: rows [:b] forward at t, rows [b:] backward at l-1-t
        pre_f = x @ sd["lstm.weight_ih_l0"].T + (sd["lstm.bias_ih_l0"] + sd["lstm.bias_hh_l0"])
        pre_r = x @ sd["lstm.weight_ih_l0_reverse"].T + (sd["lstm.bias_ih_l0_reverse"] + sd["lstm.bias_hh_l0_reverse"])
        wh_f, wh_r = sd["lstm.weight_hh_l0"].T, sd["lstm.weight_hh_l0_reverse"].T
        scale = np.full(4 * n, 0.5, dtype=np.float32)
        scale[2 * n:3 * n] = 1.0  # sigmoid(x) = 0.5 + 0.5 tanh(x / 2) for i, f, o; tanh for g
        h = np.zeros((2 * b, n), dtype=np.float32)
        cell = np.zeros((2 * b, n), dtype=np.float32)
        hs_f = np.zeros((b, l, n), dtype=np.float32)
        hs_r = np.zeros((b, l, n), dtype=np.float32)
        g = np.empty((2 * b, 4 * n), dtype=np.float32)
        for t in range(l):
            r = l - 1 - t
            np.add(pre_f[:, t], h[:b] @ wh_f, out=g[:b])
            np.add(pre_r[:, r], h[b:] @ wh_r, out=g[b:])
            a = np.tanh(g * scale)
            a[:, :2 * n] = 0.5 + 0.5 * a[:, :2 * n]
            a[:, 3 * n:] = 0.5 + 0.5 * a[:, 3 * n:]
            new_c = a[:, n:2 * n] * cell + a[:, :n] * a[:, 2 * n:3 * n]
            new_h = a[:, 3 * n:] * np.tanh(new_c)
            m = np.concatenate([mask[:, t], mask[:, r]])
            cell = cell + m * (new_c - cell)
            h = h + m * (new_h - h)
            hs_f[:, t] = h[:b]
            hs_r[:, r] = h[b:]
        outs = [hs_f, hs_r]
        hidden = np.concatenate(outs, axis=2)
        return (hidden @ sd["out.weight"].T + sd["out.bias"]).astype(np.float64)


# ---------------------------------------------------------------- training


def span_f1(gold: list[list[str]], pred: list[list[str]]) -> float:
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        gs, ps = set(ner_crf.bio_spans(g)), set(ner_crf.bio_spans(p))
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def train(key: str, lang: str, exclude_fold: bool, out: Path, minutes: float, log, prep: Path,
          limit: int = 0, lr_patience: int = 1, stop_patience: int = 4, seed: int = SEED) -> None:
    """Train one model; the learning rate halves after lr_patience evaluations (half epochs) without a
    better slice F1, training stops after stop_patience of them or at the time budget."""
    import torch

    torch.manual_seed(seed)
    random.seed(seed)
    started = time.time()
    vocab, vectors = cached(prep / f"{lang}.vectors.pkl", lambda: svd_vectors(lang))
    counts_path = prep / f"gazetteer-counts{'-heldout' if exclude_fold else ''}.pkl"
    total, per_fold = cached(counts_path, lambda: _plain(train_ner.gazetteer_counts(frozenset(), exclude_fold)))
    jack = train_ner.jackknife_gazetteers(lang, total, per_fold)
    sentences = [(w, t) for w, t in train_ner.training_sentences(lang, exclude_fold=exclude_fold) if w]
    if limit:  # smoke test only
        sentences = random.Random(SEED).sample(sentences, min(limit, len(sentences)))
    log(f"[{key}] {len(sentences)} sentences, vocab {len(vocab)}, prepared in {time.time() - started:.0f}s")

    char_counts = Counter(c for w, _ in sentences for word in w for c in word)
    chars = [c for c, n in char_counts.most_common() if n >= 2]
    shape_counts = Counter(ner_crf.short_shape(word) for w, _ in sentences for word in w)
    shapes = [s for s, n in shape_counts.most_common(300) if n >= 2]
    encoders = [Encoder(vocab, chars, shapes, g) for g in jack]
    train_items, dev_items = [], []
    for words, tags in sentences:
        enc = encoders[train_ner.jackknife_fold(words)].sentence(words)
        item = (enc, [TAG_INDEX.get(t, 0) for t in tags], tags)
        (dev_items if zlib.crc32(" ".join(words).encode("utf-8")) % 25 == 7 else train_items).append(item)
    dev_items = dev_items[:2000]
    log(f"[{key}] train {len(train_items)} / early-stopping slice {len(dev_items)} sentences")

    model = build_model(len(vocab) + 2, len(chars) + 2, len(shapes) + 2, vectors)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    dev_tagger = TorchTagger(model, encoders[0])

    def dev_f1() -> float:
        model.eval()
        dev_tagger.crf = [p.detach().numpy().astype(np.float64) for p in (model.trans, model.start, model.end)]
        order = sorted(range(len(dev_items)), key=lambda i: len(dev_items[i][2]))
        pred: list = [None] * len(dev_items)
        for first in range(0, len(order), 64):
            idx = order[first:first + 64]
            em = dev_tagger.emissions([dev_items[i][0] for i in idx])
            for b, i in enumerate(idx):
                pred[i] = [TAGS[k] for k in viterbi(em[b, :len(dev_items[i][2])], *dev_tagger.crf)]
        model.train()
        return span_f1([d[2] for d in dev_items], pred)

    best, best_state, bad, epoch = -1.0, None, 0, 0
    deadline = started + minutes * 60
    batch = 32
    rng = random.Random(seed)
    stop = False
    while not stop:
        epoch += 1
        order = list(range(len(train_items)))
        rng.shuffle(order)
        # length-bucketed batches: sort blocks of 50 batches by length
        batches = []
        for first in range(0, len(order), batch * 50):
            block = sorted(order[first:first + batch * 50], key=lambda i: len(train_items[i][1]))
            batches += [block[j:j + batch] for j in range(0, len(block), batch)]
        rng.shuffle(batches)
        halves = [batches[:len(batches) // 2], batches[len(batches) // 2:]]
        for half, part in enumerate(halves):
            model.train()
            loss_sum = 0.0
            for idx in part:
                encoded = [train_items[i][0] for i in idx]
                # word dropout: 5% of known words become "unknown" so that the model learns to use chars
                encoded = [([1 if (w > 1 and rng.random() < 0.05) else w for w in e[0]],) + tuple(e[1:])
                           for e in encoded]
                arrays = [torch.from_numpy(a) for a in collate(encoded)]
                lengths = arrays[-1]
                tags = torch.zeros(arrays[0].shape, dtype=torch.long)
                for b, i in enumerate(idx):
                    tags[b, :len(train_items[i][1])] = torch.tensor(train_items[i][1])
                mask = torch.arange(tags.shape[1])[None, :] < lengths[:, None]
                loss = model.nll(model.emissions(*arrays), tags, mask)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimiser.step()
                loss_sum += loss.item()
                if time.time() > deadline:
                    break
            f1 = dev_f1()
            improved = f1 > best
            if improved:
                best, bad = f1, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad += 1
                if bad % lr_patience == 0:
                    for group in optimiser.param_groups:
                        group["lr"] *= 0.5
            log(f"[{key}] epoch {epoch}.{half + 1} loss {loss_sum / max(1, len(part)):.3f} slice F1 {f1:.4f}"
                f"{' *' if improved else ''} ({time.time() - started:.0f}s)")
            if bad >= stop_patience or time.time() > deadline:
                stop = True
                break
    model.load_state_dict(best_state)
    save_checkpoint(model, key, out, vocab, chars, shapes, best, epoch, started, log)


def save_checkpoint(model, key, out, vocab, chars, shapes, best, epoch, started, log) -> None:
    import torch

    path = out / f"{key}.pt"
    torch.save({"state": model.state_dict(), "vocab": vocab, "chars": chars, "shapes": shapes,
                "dims": DIMS, "best_slice_f1": best, "epochs": epoch, "seconds": time.time() - started}, path)
    log(f"[{key}] saved {path} ({path.stat().st_size / 1e6:.1f} MB), best slice F1 {best:.4f}, "
        f"{time.time() - started:.0f}s")


# The final (shipped) models: all training sentences, no early-stopping slice, the number of half epochs at
# which early stopping picked the selected run's checkpoint and that run's learning-rate halvings replayed
# (v1 schedule: lr/2 after every half epoch without a better slice F1; see run-v1-train.log):
#   id: best at epoch 9.1 = 17 half epochs, no gain after half epochs 8 (4.2), 9 (5.1), 10 (5.2), 12 (6.2);
#   pt: best at epoch 4.2 = 8 half epochs, no gain after half epochs 6 (3.2) and 7 (4.1).
FINAL_SCHEDULES = {"id": (17, {8, 9, 10, 12}), "pt": (8, {6, 7})}


def train_final(lang: str, out: Path, log, prep: Path, seed: int = SEED) -> None:
    """Train the shipped model of `lang` on all of training_sentences(lang) with FINAL_SCHEDULES[lang]
    (same data preparation, model, optimiser, batching and word dropout as train()), save the torch
    checkpoint to `out` and export the numpy file (export_numpy) to `out` as well."""
    import torch

    torch.manual_seed(seed)
    random.seed(seed)
    started = time.time()
    half_epochs, halve_after = FINAL_SCHEDULES[lang]
    vocab, vectors = cached(prep / f"{lang}.vectors.pkl", lambda: svd_vectors(lang))
    total, per_fold = cached(prep / "gazetteer-counts.pkl",
                             lambda: _plain(train_ner.gazetteer_counts(frozenset(), False)))
    jack = train_ner.jackknife_gazetteers(lang, total, per_fold)
    sentences = [(w, t) for w, t in train_ner.training_sentences(lang) if w]
    char_counts = Counter(c for w, _ in sentences for word in w for c in word)
    chars = [c for c, n in char_counts.most_common() if n >= 2]
    shape_counts = Counter(ner_crf.short_shape(word) for w, _ in sentences for word in w)
    shapes = [s for s, n in shape_counts.most_common(300) if n >= 2]
    encoders = [Encoder(vocab, chars, shapes, g) for g in jack]
    train_items = []
    for words, tags in sentences:
        enc = encoders[train_ner.jackknife_fold(words)].sentence(words)
        train_items.append((enc, [TAG_INDEX.get(t, 0) for t in tags], tags))
    log(f"[{lang} final] {len(train_items)} sentences (all), vocab {len(vocab)}, {half_epochs} half epochs, "
        f"lr/2 after {sorted(halve_after)}, seed {seed}, prepared in {time.time() - started:.0f}s")
    model = build_model(len(vocab) + 2, len(chars) + 2, len(shapes) + 2, vectors)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    batch = 32
    rng = random.Random(seed)
    done = 0
    epoch = 0
    while done < half_epochs:
        epoch += 1
        order = list(range(len(train_items)))
        rng.shuffle(order)
        batches = []
        for first in range(0, len(order), batch * 50):
            block = sorted(order[first:first + batch * 50], key=lambda i: len(train_items[i][1]))
            batches += [block[j:j + batch] for j in range(0, len(block), batch)]
        rng.shuffle(batches)
        for half, part in enumerate([batches[:len(batches) // 2], batches[len(batches) // 2:]]):
            model.train()
            loss_sum = 0.0
            for idx in part:
                encoded = [train_items[i][0] for i in idx]
                encoded = [([1 if (w > 1 and rng.random() < 0.05) else w for w in e[0]],) + tuple(e[1:])
                           for e in encoded]
                arrays = [torch.from_numpy(a) for a in collate(encoded)]
                lengths = arrays[-1]
                tags = torch.zeros(arrays[0].shape, dtype=torch.long)
                for b, i in enumerate(idx):
                    tags[b, :len(train_items[i][1])] = torch.tensor(train_items[i][1])
                mask = torch.arange(tags.shape[1])[None, :] < lengths[:, None]
                loss = model.nll(model.emissions(*arrays), tags, mask)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimiser.step()
                loss_sum += loss.item()
            done += 1
            if done in halve_after:
                for group in optimiser.param_groups:
                    group["lr"] *= 0.5
            log(f"[{lang} final] epoch {epoch}.{half + 1} loss {loss_sum / max(1, len(part)):.3f} "
                f"lr {optimiser.param_groups[0]['lr']:.2e} ({time.time() - started:.0f}s)")
            if done >= half_epochs:
                break
    model.eval()
    save_checkpoint(model, lang, out, vocab, chars, shapes, float("nan"), epoch, started, log)
    path = export_numpy(model, vocab, chars, shapes, out / f"{lang}.bilstm.npz",
                        {"lang": lang, "seed": seed, "half_epochs": half_epochs, "sentences": len(train_items)})
    log(f"[{lang} final] exported {path} ({path.stat().st_size / 1e6:.2f} MB), {time.time() - started:.0f}s")


def export_numpy(model, vocab: list[str], chars: list[str], shapes: list[str], path: Path, info: dict) -> Path:
    """The run-time file read by docingest.stages.ner_bilstm: a compressed .npz of float16 arrays (torch
    state-dict names) plus "meta", the UTF-8 JSON of the vocabularies, tag list, dims and max chars."""
    arrays = {k: v.detach().numpy().astype(np.float16) for k, v in model.state_dict().items()}
    meta = {"format": 1, "tags": TAGS, "gaz_labels": GAZ_LABELS[1:], "max_chars": MAX_CHARS, "dims": DIMS,
            "vocab": vocab, "chars": chars, "shapes": shapes, "info": info}
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def _plain(counts):
    total, per_fold = counts
    return {k: Counter(v) for k, v in total.items()}, {f: {k: Counter(v) for k, v in d.items()}
                                                        for f, d in per_fold.items()}


def load(key: str, out: Path, gazetteer: dict, numpy_forward: bool = False):
    import torch

    saved = torch.load(out / f"{key}.pt", weights_only=False)
    model = build_model(len(saved["vocab"]) + 2, len(saved["chars"]) + 2, len(saved["shapes"]) + 2)
    model.load_state_dict(saved["state"])
    model.eval()
    encoder = Encoder(saved["vocab"], saved["chars"], saved["shapes"], gazetteer)
    return (NumpyTagger if numpy_forward else TorchTagger)(model, encoder)


# ---------------------------------------------------------------- scoring


def model_size(out: Path, key: str) -> tuple[float, float]:
    """MB on disk: the torch file, and float16 weights + vocabulary gzipped (what would ship)."""
    import io

    import torch

    path = out / f"{key}.pt"
    saved = torch.load(path, weights_only=False)
    buf = io.BytesIO()
    np.savez(buf, **{k: v.numpy().astype(np.float16) for k, v in saved["state"].items()})
    buf.write("\n".join(saved["vocab"] + saved["chars"] + saved["shapes"]).encode("utf-8"))
    return path.stat().st_size / 1e6, len(gzip.compress(buf.getvalue(), 6)) / 1e6


def bootstrap(counts: dict, samples: int = 2000) -> tuple[float, float]:
    """95% interval of F1(ctx-torch) - F1(crf), resampling records (documents) with replacement."""
    rng = np.random.default_rng(SEED)
    a, b = counts["ctx-torch"], counts["crf"]
    idx = rng.integers(0, len(a), size=(samples, len(a)))

    def f1(c):
        tp, fp, fn = c[idx].sum(axis=1).T
        return 2 * tp / np.maximum(2 * tp + fp + fn, 1)

    diff = f1(a) - f1(b)
    return float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))


def evaluate(out: Path, keys: list[str], quick: bool, log) -> list[dict]:
    import torch
    from docingest.stages.extract_entities import extract_entities as stage

    rows = []
    shipped_gaz = ner_crf.read_gazetteer(ner_crf.MODEL_DIR / "gazetteer.txt.gz")

    def stage_with(tagger, lang):
        def extract(text, language):
            previous = ner_crf._TAGGERS.get(lang)
            ner_crf._TAGGERS[lang] = tagger
            try:
                return stage(text, language, "crf")
            finally:
                ner_crf._TAGGERS[lang] = previous

        return extract

    def score(name, records, types, lang, systems, crf_size, ctx_key):
        row = {"set": name, "records": len(records), "ctx_size": model_size(out, ctx_key), "crf_size": crf_size}
        for system, extract in systems.items():
            extract("Warm up in Lisboa.", lang)
            timer = quality_ner.Timer()
            s = quality_ner.Score()
            counts = []  # per record (tp, fp, fn), for the paired bootstrap below
            for record in records:  # quality_ner.run_system, one record at a time
                one = quality_ner.run_system(extract, [record], types, lang, timer)
                s.merge(one)
                counts.append([sum(one.tp.values()), sum(one.fp.values()), sum(one.fn.values())])
            row.setdefault("_counts", {})[system] = np.array(counts, dtype=np.float64)
            p, r, f, gold = s.prf()
            row[system] = {"p": p, "r": r, "f1": f, "gold": gold, "tok_s": timer.tokens / timer.cpu,
                           "per_type": {k: s.prf(k)[2] for k in s.types()}}
            log(f"  {name:34s} {system:9s} P {p:.3f} R {r:.3f} F1 {f:.3f}  {timer.tokens / timer.cpu:8.0f} tok/s")
        row["ci"] = bootstrap(row.pop("_counts"))
        log(f"  {name:34s} ctx-torch - crf F1 {row['ctx-torch']['f1'] - row['crf']['f1']:+.3f}, "
            f"95% paired bootstrap over records [{row['ci'][0]:+.3f}, {row['ci'][1]:+.3f}]")
        rows.append(row)

    def crf_size_of(lang):  # the gzipped CRF + its cluster file (the gazetteer is shared by both systems)
        return ((ner_crf.MODEL_DIR / f"{lang}.crfsuite.gz").stat().st_size
                + (ner_crf.MODEL_DIR / f"{lang}.clusters.tsv.gz").stat().st_size) / 1e6

    for key, sets in (("id", ["id-idner-news-2k", "id-indolem-nerugm", "id-indolem-nerui"]),
                      ("pt", ["pt-wikiann", "pt-harem-first"])):
        if key not in keys or not (out / f"{key}.pt").exists():
            continue
        crf = lambda text, language: stage(text, language, "crf")  # noqa: E731
        systems = {"crf": crf, "ctx-torch": stage_with(load(key, out, shipped_gaz), key),
                   "ctx-numpy": stage_with(load(key, out, shipped_gaz, numpy_forward=True), key)}
        for name in sets:
            records = quality_ner.subsample(quality_ner.read_set(name, "dev"), quick)
            types = quality_ner.gold_types(records) if name != "pt-harem-first" else {"PER", "ORG", "LOC"}
            types = types & set(quality_ner.NAME_TYPES) | ({"DATE"} & types)
            score(name + (" (dev, PER/ORG/LOC)" if name == "pt-harem-first" else " dev"), records, types, key,
                  systems, crf_size_of(key), key)

    if "id-heldout" in keys and (out / "id-heldout.pt").exists():
        cache = crf_cache_dir(Path(os.environ.get("TMPDIR", "/tmp")) / "docingest-ner-eval")
        if not (cache / "id-heldout.crfsuite").exists():
            log(f"training the held-out CRF into {cache} (as quality_ner.py does)")
            quality_ner.train_variant((cache, "id-heldout", "id", frozenset(), True, None))
        with gzip.open(cache / "id-heldout.gazetteer.json.gz", "rt", encoding="utf-8") as f:
            gaz = json.load(f)
        crf_tagger = quality_ner.variant_tagger(cache, "id-heldout", "id")
        name = "id-indonlu-nergrit"
        records = [r for i, r in enumerate(quality_ner.read_set(name, "train")) if train_ner.held_out_fold(i) == 0]
        records = quality_ner.subsample(records, quick)
        types = quality_ner.gold_types(records) & set(quality_ner.NAME_TYPES)
        systems = {"crf": quality_ner.tagger_extractor(crf_tagger),
                   "ctx-torch": quality_ner.tagger_extractor(load("id-heldout", out, gaz)),
                   "ctx-numpy": quality_ner.tagger_extractor(load("id-heldout", out, gaz, numpy_forward=True))}
        crf_size = (len(gzip.compress((cache / "id-heldout.crfsuite").read_bytes(), 6))
                    + (ner_crf.MODEL_DIR / "id.clusters.tsv.gz").stat().st_size) / 1e6  # gzipped, as shipped
        score("id-indonlu-nergrit (held-out fold 0)", records, types, "id", systems, crf_size, "id-heldout")
    return rows


def print_table(rows: list[dict], log) -> None:
    log("\n| set | CRF F1 | contextual F1 | diff | 95% CI of diff | CRF tok/s | ctx tok/s (torch) | ctx tok/s (numpy) "
        "| CRF MB | ctx MB (.pt / fp16 gz) |")
    log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        c, t, n = row["crf"], row["ctx-torch"], row["ctx-numpy"]
        log(f"| {row['set']} | {c['f1']:.3f} | {t['f1']:.3f} | {t['f1'] - c['f1']:+.3f} | "
            f"[{row['ci'][0]:+.3f}, {row['ci'][1]:+.3f}] | {c['tok_s']:.0f} | "
            f"{t['tok_s']:.0f} | {n['tok_s']:.0f} | {row['crf_size']:.1f} | "
            f"{row['ctx_size'][0]:.1f} / {row['ctx_size'][1]:.1f} |")
    log("\nper type F1 (crf / ctx-torch):")
    for row in rows:
        kinds = sorted(set(row["crf"]["per_type"]) | set(row["ctx-torch"]["per_type"]))
        log(f"  {row['set']}: " + ", ".join(
            f"{k} {row['crf']['per_type'].get(k, 0):.3f}/{row['ctx-torch']['per_type'].get(k, 0):.3f}" for k in kinds))
    log("numpy and torch tags agree: " + ", ".join(
        f"{r['set']} {'yes' if abs(r['ctx-torch']['f1'] - r['ctx-numpy']['f1']) < 1e-9 else 'NO'}" for r in rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ner-contextual"))
    parser.add_argument("--models", default="id,pt,id-heldout")
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-clock training budget per model")
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="score 300 records per set")
    parser.add_argument("--prep", type=Path, default=Path("/tmp/ner-contextual-prep"),
                        help="cache of the SVD vectors and gazetteer counts")
    parser.add_argument("--lr-patience", type=int, default=1, help="evaluations without gain before lr/2")
    parser.add_argument("--stop-patience", type=int, default=4, help="evaluations without gain before stopping")
    parser.add_argument("--seed", type=int, default=SEED, help="torch init, shuffling, word dropout")
    parser.add_argument("--limit", type=int, default=0, help="smoke test: train on this many sentences")
    parser.add_argument("--final", action="store_true",
                        help="train the shipped models (--models id,pt) on all sentences with FINAL_SCHEDULES and "
                             "export <lang>.bilstm.npz to --out (copy to shared/docingest/data/ner/)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    log_file = open(args.out / "run.log", "a", encoding="utf-8")

    def log(line: str) -> None:
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    keys = [k for k in args.models.split(",") if k]
    log(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} {' '.join(sys.argv[1:])}")
    log(f"# models {keys} out {args.out} "
        f"torch {torch.__version__} threads {torch.get_num_threads()} load {os.getloadavg()}")
    started = time.time()
    if args.final:
        for key in keys:
            train_final(key, args.out, log, args.prep, args.seed)
        log(f"final training total {time.time() - started:.0f}s")
        return 0
    if not args.eval_only:
        for key in keys:
            lang = key.split("-")[0]
            train(key, lang, key.endswith("-heldout"), args.out, args.minutes, log, args.prep, args.limit,
                  args.lr_patience, args.stop_patience, args.seed)
        log(f"training total {time.time() - started:.0f}s")
    if args.train_only:
        return 0
    rows = evaluate(args.out, keys, args.quick, log)
    with open(args.out / "results.json", "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    print_table(rows, log)
    log(f"run total {time.time() - started:.0f}s, load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
