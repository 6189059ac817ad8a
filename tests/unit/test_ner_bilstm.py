"""The numpy BiLSTM-CRF tagger (docingest.stages.ner_bilstm) and its place behind ner_crf.load_tagger.

A tiny model with random weights is written in the export format and its tags are compared with a
plain per-token reference computation (loops, explicit sigmoid, brute-force best tag sequence). The
sentences for the shipped models are written for these tests (invented news).
"""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from docingest.stages import ner_bilstm, ner_crf
from docingest.stages.extract_entities import extract_entities
from docingest.stages.ner_tokens import tokenize

TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
DIMS = {"word": 6, "char": 4, "char_filters": 5, "shape": 3, "gaz": 3, "case": 2, "hidden": 4}
MAX_CHARS = 16
VOCAB = ["the", "minister", "ana", "lima", "visited", "porto", "0000", "."]
CHARS = list("abcdefghijklmnopqrstuvwxyzAPLM.")
SHAPES = ["x", "Xx", "p", "d"]
GAZETTEER = {"porto": "LOC", "ana lima": "PER"}
SHIPPED_DIR = ner_crf.MODEL_DIR  # before any fixture points ner_crf.MODEL_DIR elsewhere


def tiny_arrays(seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    d, n = DIMS, DIMS["hidden"]
    size = d["word"] + d["char_filters"] + d["shape"] + d["gaz"] + d["case"]

    def r(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float16)

    arrays = {
        "word.weight": r(len(VOCAB) + 2, d["word"]), "char.weight": r(len(CHARS) + 2, d["char"]),
        "conv.weight": r(d["char_filters"], d["char"], 3), "conv.bias": r(d["char_filters"]),
        "shape.weight": r(len(SHAPES) + 2, d["shape"]), "gaz.weight": r(len(TAGS) + 1, d["gaz"]),
        "case.weight": r(4, d["case"]),
        "out.weight": r(len(TAGS), 2 * n, scale=2.0), "out.bias": r(len(TAGS)),
        "trans": r(len(TAGS), len(TAGS)), "start": r(len(TAGS)), "end": r(len(TAGS)),
    }
    for suffix in ("", "_reverse"):
        arrays["lstm.weight_ih_l0" + suffix] = r(4 * n, size)
        arrays["lstm.weight_hh_l0" + suffix] = r(4 * n, n)
        arrays["lstm.bias_ih_l0" + suffix] = r(4 * n)
        arrays["lstm.bias_hh_l0" + suffix] = r(4 * n)
    for name in ("word.weight", "char.weight", "shape.weight", "gaz.weight"):
        arrays[name][0] = 0  # padding rows, as torch's padding_idx
    return arrays


def write_model(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    meta = {"format": 1, "tags": TAGS, "gaz_labels": TAGS[1:], "max_chars": MAX_CHARS, "dims": DIMS,
            "vocab": VOCAB, "chars": CHARS, "shapes": SHAPES, "info": {"test": True}}
    payload = dict(arrays, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    with open(path, "wb") as f:
        np.savez_compressed(f, **payload)
    return path


# ---------------------------------------------------------------- the reference computation


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_emissions(arrays: dict[str, np.ndarray], words: list[str]) -> list[np.ndarray]:
    """Token by token: embeddings, char CNN, one LSTM per direction, linear."""
    w = {k: v.astype(np.float64) for k, v in arrays.items()}
    n = DIMS["hidden"]
    gaz = ner_crf.FeatureExtractor(None, GAZETTEER).gazetteer_tags(words)
    letters = "".join(words)
    case = 1 if letters == letters.lower() else (2 if letters == letters.upper() else 3)
    inputs = []
    for word, label in zip(words, gaz):
        normal = ner_crf.normalise_word(word)
        word_id = VOCAB.index(normal) + 2 if normal in VOCAB else 1
        window = word if len(word) <= MAX_CHARS else word[:8] + word[-8:]
        char_ids = [CHARS.index(c) + 2 if c in CHARS else 1 for c in window] + [0] * (MAX_CHARS - len(window))
        emb = [np.zeros(DIMS["char"])] + [w["char.weight"][c] for c in char_ids] + [np.zeros(DIMS["char"])]
        pooled = np.full(DIMS["char_filters"], -np.inf)
        for p in range(MAX_CHARS):
            for f in range(DIMS["char_filters"]):
                value = w["conv.bias"][f] + sum(w["conv.weight"][f, :, k] @ emb[p + k] for k in range(3))
                pooled[f] = max(pooled[f], max(value, 0.0))
        shape = ner_crf.short_shape(word)
        shape_id = SHAPES.index(shape) + 2 if shape in SHAPES else 1
        gaz_id = 1 if label is None else TAGS.index(label) + 1
        inputs.append(np.concatenate([w["word.weight"][word_id], pooled, w["shape.weight"][shape_id],
                                      w["gaz.weight"][gaz_id], w["case.weight"][case]]))

    def run(sequence, suffix):
        h, c, out = np.zeros(n), np.zeros(n), []
        for x in sequence:
            z = (w["lstm.weight_ih_l0" + suffix] @ x + w["lstm.bias_ih_l0" + suffix]
                 + w["lstm.weight_hh_l0" + suffix] @ h + w["lstm.bias_hh_l0" + suffix])
            i, f, g, o = sigmoid(z[:n]), sigmoid(z[n:2 * n]), np.tanh(z[2 * n:3 * n]), sigmoid(z[3 * n:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out.append(h)
        return out

    forward = run(inputs, "")
    backward = run(inputs[::-1], "_reverse")[::-1]
    return [w["out.weight"] @ np.concatenate([a, b]) + w["out.bias"] for a, b in zip(forward, backward)]


def reference_tags(arrays: dict[str, np.ndarray], words: list[str]) -> list[str]:
    """reference_emissions, then the best tag sequence by enumerating all of them."""
    w = {k: v.astype(np.float64) for k, v in arrays.items()}
    em = reference_emissions(arrays, words)
    best, best_path = -np.inf, None
    for path in itertools.product(range(len(TAGS)), repeat=len(words)):
        score = w["start"][path[0]] + w["end"][path[-1]] + sum(em[t][k] for t, k in enumerate(path))
        score += sum(w["trans"][a, b] for a, b in zip(path, path[1:]))
        if score > best:
            best, best_path = score, path
    return [TAGS[k] for k in best_path]


SENTENCES = [
    ["Porto"],
    ["Ana", "Lima", "visited", "Porto"],
    ["THE", "MINISTER", "2026", "."],
    ["the", "minister", "ana", "lima", "."],
    ["Supercalifragilisticexpialidocious", "Ana", "Lima"],
]


def test_the_numpy_tagger_matches_a_token_by_token_reference(tmp_path):
    arrays = tiny_arrays()
    tagger = ner_bilstm.load_bilstm(write_model(tmp_path / "xx.bilstm.npz", arrays), GAZETTEER)
    expected = [reference_tags(arrays, s) for s in SENTENCES]
    assert len({tuple(t) for t in expected}) > 2  # the random model does not tag everything alike
    assert tagger.tag_sentences(SENTENCES) == expected  # one batch: padding and masking
    for sentence, tags in zip(SENTENCES, expected):
        assert tagger.tag_sentence(sentence) == tags
    assert tagger.tag_sentences([[], SENTENCES[1], []]) == [[], expected[1], []]


def test_the_numpy_scores_match_the_reference_scores(tmp_path):
    arrays = tiny_arrays()
    tagger = ner_bilstm.load_bilstm(write_model(tmp_path / "xx.bilstm.npz", arrays), GAZETTEER)
    batch = tagger.emissions([tagger.encode(s) for s in SENTENCES])
    for k, sentence in enumerate(SENTENCES):
        expected = np.array(reference_emissions(arrays, sentence))
        assert np.allclose(batch[k, :len(sentence)], expected, atol=1e-4), sentence


def test_other_weights_give_other_tags(tmp_path):
    """The comparison above can fail: another seed's reference disagrees with this tagger somewhere."""
    tagger = ner_bilstm.load_bilstm(write_model(tmp_path / "xx.bilstm.npz", tiny_arrays(3)), GAZETTEER)
    others = [reference_tags(tiny_arrays(4), s) for s in SENTENCES]
    assert tagger.tag_sentences(SENTENCES) != others


def test_inconsistent_arrays_are_refused(tmp_path):
    arrays = tiny_arrays()
    arrays["out.weight"] = arrays["out.weight"][:, :-1]
    with pytest.raises(ValueError):
        ner_bilstm.load_bilstm(write_model(tmp_path / "xx.bilstm.npz", arrays), GAZETTEER)


# ---------------------------------------------------------------- the seam in ner_crf


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    """A model directory holding the shipped pt CRF files (links) and the gazetteer, no BiLSTM file."""
    for name in ("pt.crfsuite.gz", "pt.clusters.tsv.gz", "gazetteer.txt.gz"):
        (tmp_path / name).symlink_to(SHIPPED_DIR / name)
    monkeypatch.setattr(ner_crf, "MODEL_DIR", tmp_path)
    monkeypatch.setattr(ner_crf, "_TAGGERS", {})
    return tmp_path


@pytest.mark.parametrize("content", [None, b"", b"PK\x03\x04 not a zip", b"\x00" * 1000])
def test_a_missing_or_corrupt_model_file_falls_back_to_the_crf(model_dir, content, caplog):
    if content is not None:
        (model_dir / "pt.bilstm.npz").write_bytes(content)
    with caplog.at_level("WARNING", logger="docingest.stages.ner_crf"):
        tagger = ner_crf.load_tagger("pt")
    assert isinstance(tagger, ner_crf.CrfTagger)
    assert "using the CRF" in caplog.text
    words = "O ministro Rui Almeida chegou a Coimbra .".split()
    assert len(tagger.tag_document([words])[0]) == len(words)


def test_a_truncated_model_file_falls_back_to_the_crf(model_dir):
    data = SHIPPED_DIR / "pt.bilstm.npz"
    (model_dir / "pt.bilstm.npz").write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    assert isinstance(ner_crf.load_tagger("pt"), ner_crf.CrfTagger)


def test_without_numpy_the_crf_is_used(model_dir, monkeypatch):
    shipped = SHIPPED_DIR / "pt.bilstm.npz"
    (model_dir / "pt.bilstm.npz").symlink_to(shipped)
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy raises ImportError
    assert isinstance(ner_crf.load_tagger("pt"), ner_crf.CrfTagger)


def test_a_valid_file_in_the_model_dir_is_used(model_dir):
    shipped = SHIPPED_DIR / "pt.bilstm.npz"
    (model_dir / "pt.bilstm.npz").symlink_to(shipped)
    assert isinstance(ner_crf.load_tagger("pt"), ner_bilstm.BiLstmTagger)


def test_importing_the_module_does_not_import_numpy():
    code = "import sys, docingest.stages.ner_bilstm, docingest.stages.ner_crf; print('numpy' in sys.modules)"
    shared = Path(ner_bilstm.__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(shared)})
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- the shipped models

SHIPPED = [
    ("id", "Gubernur Rahmat Santoso meninjau pasar tradisional di Makassar pada hari Senin .",
     [("Rahmat Santoso", "PER"), ("Makassar", "LOC")]),
    ("pt", "A escritora Marta Figueiredo apresentou o seu novo livro numa livraria de Coimbra na quinta-feira .",
     [("Marta Figueiredo", "PER"), ("Coimbra", "LOC")]),
]


@pytest.mark.parametrize("lang", ["id", "pt"])
def test_id_and_pt_ship_a_small_bilstm_model_used_by_default(lang):
    path = ner_bilstm.model_path(SHIPPED_DIR, lang)
    assert path.is_file() and path.stat().st_size <= 6_000_000
    assert isinstance(ner_crf.load_tagger(lang), ner_bilstm.BiLstmTagger)
    for other in ("ms", "gl", "pt-BR"):  # the languages that fall back to id or pt
        code = ner_crf.model_language(other)
        assert isinstance(ner_crf.load_tagger(code), ner_bilstm.BiLstmTagger)
    assert isinstance(ner_crf.load_tagger("en"), ner_crf.CrfTagger)


@pytest.mark.parametrize("lang, sentence, expected", SHIPPED, ids=[s[0] for s in SHIPPED])
def test_the_shipped_bilstm_models_find_a_person_and_a_place(lang, sentence, expected):
    words = [t.text for t in tokenize(sentence)]
    tagger = ner_crf.load_tagger(lang)
    assert isinstance(tagger, ner_bilstm.BiLstmTagger)
    tags = tagger.tag_document([words])[0]
    found = {(" ".join(words[a:b]), kind) for a, b, kind in ner_crf.bio_spans(tags)}
    for name in expected:
        assert name in found, (name, found)
    entities = {(e.text, e.type) for e in extract_entities(sentence.replace(" .", "."), lang)}
    for name in expected:
        assert name in entities, (name, entities)
