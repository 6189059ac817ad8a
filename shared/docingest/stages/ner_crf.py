"""Trained named-entity tagger: one linear-chain CRF (python-crfsuite) per language.

The models and their feature resources ship in ``docingest/data/ner/``:

- ``<lang>.crfsuite.gz``: the CRF (BIO tags over PER, ORG, LOC, MISC), unpacked on first use into the
  temp directory (crfsuite needs a plain file); ``<lang>-news.crfsuite.gz`` where the language's news set
  and its WikiANN set disagree (en, nl): a model of the news set alone, and each sentence is tagged by
  the model most confident of it;
- ``<lang>.clusters.tsv.gz``: ``word<TAB>c1<TAB>c2<TAB>c3``, word clusters at three granularities
  learned from unlabeled text plus the training texts (k-means over PPMI/SVD word vectors);
- ``gazetteer.txt.gz``: normalised entity strings by type, harvested from the training data of all
  languages, matched as token sequences (longest match, BIO features).

- ``<lang>.bilstm.npz`` (``id``, ``pt``): a BiLSTM-CRF run with numpy (``ner_bilstm``), used instead of
  the CRF for those languages (and the languages that fall back to them) when it loads; the CRF stays
  the fallback. ``bench/ner_contextual/train_contextual.py --final`` writes it.

``bench/train_ner.py`` writes the others; the feature functions below are shared by training
and inference so that both see exactly the same features.

Usage::

    tagger = load_tagger(model_language("pt-BR"))
    tags = tagger.tag_document([["O", "presidente", "Lula", "visitou", "Lisboa", "."]])

Only the standard library and pycrfsuite (numpy for the BiLSTM) are imported, and lazily: a model and its resources are
loaded on first use and cached for the life of the process.
"""
from __future__ import annotations

import gzip
import logging
import os
import shutil
import tempfile
import threading
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from docingest.stages.ner_bilstm import BiLstmTagger

_LOG = logging.getLogger(__name__)

# The shipped models; DOCINGEST_NER_MODEL_DIR points elsewhere (for evaluating a retrained set of files).
MODEL_DIR = Path(os.environ.get("DOCINGEST_NER_MODEL_DIR") or Path(__file__).resolve().parent.parent / "data" / "ner")
MODEL_LANGUAGES: tuple[str, ...] = ("en", "pt", "id", "de", "fr", "nl", "es")
ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")

# Languages without a model of their own: the closest shipped model (script, casing, name forms).
_FALLBACK = {
    "ms": "id", "jv": "id", "su": "id", "tl": "id",
    "gl": "pt", "ca": "es", "it": "es", "ro": "es", "oc": "fr", "eu": "es", "la": "es",
    "af": "nl", "fy": "nl", "li": "nl",
    "lb": "de", "da": "de", "sv": "de", "no": "de", "nb": "de", "nn": "de", "is": "de",
    "pl": "de", "cs": "de", "sk": "de", "sl": "de", "hr": "de", "hu": "de", "fi": "de", "et": "de",
}
_DEFAULT = "en"
# Languages whose model is the BiLSTM-CRF of ner_bilstm (``<lang>.bilstm.npz``), the CRF being the fallback.
BILSTM_LANGUAGES: frozenset[str] = frozenset({"id", "pt"})


def model_language(language: str | None) -> str:
    """The model code for any language code: itself when shipped, else a fallback, else English.

    >>> model_language("pt-BR"), model_language("ms"), model_language(None)
    ('pt', 'id', 'en')
    """
    if not language:
        return _DEFAULT
    base = language.replace("_", "-").split("-")[0].strip().lower()
    if base in MODEL_LANGUAGES:
        return base
    return _FALLBACK.get(base, _DEFAULT)


# ---------------------------------------------------------------- features


def _char_class(ch: str, other: str | None) -> str:
    """X upper, x other letter, d digit; any other character is itself (other=None) or ``other``."""
    if ch.isupper():
        return "X"
    if ch.isalpha():
        return "x"
    if ch.isdigit():
        return "d"
    return ch if other is None else other


def _collapsed(word: str, other: str | None, longest_run: int) -> str:
    out: list[str] = []
    for ch in word[:12]:
        c = _char_class(ch, other)
        if len(out) >= longest_run and all(previous == c for previous in out[-longest_run:]):
            continue
        out.append(c)
    return "".join(out)


def word_shape(word: str) -> str:
    """Character classes with runs collapsed to at most two: "McDonald's" -> "XxXx'x"."""
    return _collapsed(word, None, 2)


def short_shape(word: str) -> str:
    """Character classes with every run collapsed to one, punctuation as p: "McDonald's" -> "XxXxpx"."""
    return _collapsed(word, "p", 1)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_word(word: str) -> str:
    """Lookup form for clusters and gazetteers: lower case, digits as 0, typographic apostrophe."""
    low = word.lower().replace("’", "'")
    if any(ch.isdigit() for ch in low):
        low = "".join("0" if ch.isdigit() else ch for ch in low)
    return low


class FeatureExtractor:
    """Token features for the CRF, from word clusters and a gazetteer (both optional)."""

    def __init__(self, clusters: dict[str, tuple[str, ...]] | None = None,
                 gazetteer: dict[str, str] | None = None, gazetteer_max: int = 6):
        self.clusters = clusters or {}
        self.gazetteer = gazetteer or {}
        self.gazetteer_max = gazetteer_max
        self._cache: dict[str, tuple[list[str], ...]] = {}

    # Per word type: (local features, context features at -2, -1, +1, +2).
    def _word(self, word: str) -> tuple[list[str], ...]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        low = normalise_word(word)
        shape = word_shape(word)
        sshape = short_shape(word)
        local = [
            "w=" + low,
            "sh=" + shape,
            "ss=" + sshape,
            "p1=" + low[:1], "p2=" + low[:2], "p3=" + low[:3], "p4=" + low[:4],
            "s1=" + low[-1:], "s2=" + low[-2:], "s3=" + low[-3:], "s4=" + low[-4:],
        ]
        if word[:1].isupper():
            local.append("title")
        if word.isupper() and len(word) > 1:
            local.append("upper")
        if any(ch.isdigit() for ch in word):
            local.append("digit")
        if not any(ch.isalnum() for ch in word):
            local.append("punct")
        if "-" in word:
            local.append("hyphen")
        if len(word) == 1:
            local.append("len1")
        plain = strip_accents(low)
        if plain != low:
            local.append("wa=" + plain)
        ctx = ["w=" + low, "ss=" + sshape]
        cl = self.clusters.get(low)
        if cl is not None:
            local.extend(("c1=" + cl[0], "c2=" + cl[1], "c3=" + cl[2]))
            ctx.extend(("c1=" + cl[0], "c2=" + cl[1]))
        else:
            local.append("c=none")
        if word[:1].isupper():
            ctx.append("title")
        result = (
            local,
            ["-2" + f for f in ctx[:2]],
            ["-1" + f for f in ctx],
            ["+1" + f for f in ctx],
            ["+2" + f for f in ctx[:2]],
        )
        if len(self._cache) < 200_000:
            self._cache[word] = result
        return result

    def gazetteer_tags(self, words: list[str]) -> list[str | None]:
        """Longest-match BIO labels ("B-PER", "I-LOC", ...) of gazetteer entries over the sentence."""
        n = len(words)
        labels: list[str | None] = [None] * n
        if not self.gazetteer:
            return labels
        low = [normalise_word(w) for w in words]
        gazetteer = self.gazetteer
        i = 0
        while i < n:
            if not words[i][:1].isalnum():
                i += 1
                continue
            found = 0
            for length in range(min(self.gazetteer_max, n - i), 0, -1):
                kind = gazetteer.get(" ".join(low[i:i + length]))
                if kind is not None:
                    labels[i] = "B-" + kind
                    for j in range(i + 1, i + length):
                        labels[j] = "I-" + kind
                    found = length
                    break
            i += found or 1
        return labels

    def sentence(self, words: list[str], extra: list[list[str]] | None = None) -> list[list[str]]:
        """Feature lists (strings, value 1) for each token of one sentence."""
        n = len(words)
        info = [self._word(w) for w in words]
        lows = [f[0][0] for f in info]  # "w=..."
        gaz = self.gazetteer_tags(words)
        # Sentence casing: lower-cased (NER-P style) or upper-cased (headline) text changes every cue.
        letters = "".join(words)
        casing = "lc" if letters == letters.lower() else ("uc" if letters == letters.upper() else "")
        out: list[list[str]] = []
        for i in range(n):
            feats = ["b", "case=" + casing] if casing else ["b"]
            feats += info[i][0]
            if i == 0:
                feats.append("BOS")
            else:
                feats += info[i - 1][2]
                feats.append("bg-=" + lows[i - 1][2:] + "|" + lows[i][2:])
                if i == 1:
                    feats.append("-1BOS")
                else:
                    feats += info[i - 2][1]
            if i == n - 1:
                feats.append("EOS")
            else:
                feats += info[i + 1][3]
                feats.append("bg+=" + lows[i][2:] + "|" + lows[i + 1][2:])
                if i + 2 < n:
                    feats += info[i + 2][4]
            g = gaz[i]
            if g is not None:
                feats.append("g=" + g)
                feats.append("gt=" + g[2:])
            if i > 0 and gaz[i - 1] is not None:
                feats.append("-1g=" + gaz[i - 1])
            if i + 1 < n and gaz[i + 1] is not None:
                feats.append("+1g=" + gaz[i + 1])
            if extra is not None:
                feats += extra[i]
            out.append(feats)
        return out


# ---------------------------------------------------------------- resources


def read_clusters(path: Path) -> dict[str, tuple[str, ...]]:
    clusters: dict[str, tuple[str, ...]] = {}
    if not path.exists():
        return clusters
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4:
                clusters[parts[0]] = (parts[1], parts[2], parts[3])
    return clusters


GROUP = "\x1d"  # separates the per-type blocks of the gazetteer file


def read_gazetteer(path: Path) -> dict[str, str]:
    """Space-joined normalised entity string -> type; blocks "TYPE\nentry\nentry..." joined by GROUP."""
    gazetteer: dict[str, str] = {}
    if not path.exists():
        return gazetteer
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    for block in text.split(GROUP):
        kind, _, entries = block.strip("\n").partition("\n")
        if entries:
            gazetteer.update(dict.fromkeys(entries.split("\n"), kind))
    return gazetteer


def write_gazetteer(path: Path, gazetteer: dict[str, str]) -> None:
    by_type: dict[str, list[str]] = {}
    for entry, kind in gazetteer.items():
        by_type.setdefault(kind, []).append(entry)
    text = GROUP.join(kind + "\n" + "\n".join(sorted(entries)) + "\n" for kind, entries in sorted(by_type.items()))
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        raw.write(text.encode("utf-8"))


@lru_cache(maxsize=1)
def _shared_gazetteer() -> dict[str, str]:
    return read_gazetteer(MODEL_DIR / "gazetteer.txt.gz")


# ---------------------------------------------------------------- tagging


class CrfTagger:
    """One language's CRF(s) with their feature extractor.

    With several models (the language's main model and a news-only one, see ``model_files``) each
    sentence gets the tagging of the model most sure of it: the highest P(tags | sentence).
    """

    def __init__(self, model_path: Path | list[Path], features: FeatureExtractor):
        import pycrfsuite  # imported here: the package is only needed once a model is used

        paths = model_path if isinstance(model_path, list) else [model_path]
        self._taggers = []
        for path in paths:
            tagger = pycrfsuite.Tagger()
            tagger.open(str(path))
            self._taggers.append(tagger)
        self._lock = threading.Lock()  # a pycrfsuite Tagger is not safe to share between threads
        self.features = features

    def tag_sentence(self, words: list[str]) -> list[str]:
        if not words:
            return []
        feats = self.features.sentence(words)
        with self._lock:
            if len(self._taggers) == 1:
                return list(self._taggers[0].tag(feats))
            best: tuple[float, list[str]] = (-1.0, [])
            for tagger in self._taggers:
                tags = tagger.tag(feats)
                probability = tagger.probability(tags)
                if probability > best[0]:
                    best = (probability, list(tags))
            return best[1]

    def tag_document(self, sentences: list[list[str]]) -> list[list[str]]:
        """BIO tags for every token of every sentence of one document.

        Document-level consistency: a capitalised token sequence tagged as an entity somewhere in
        the document is given the same (majority) type where it recurs untagged.
        """
        tags = [self.tag_sentence(list(words)) for words in sentences]
        return harmonise_document(sentences, tags)


def bio_spans(tags: list[str]) -> Iterable[tuple[int, int, str]]:
    """(start, end, type) token spans of BIO tags; an I- tag without its B- starts a span."""
    start, kind = -1, ""
    for i, tag in enumerate(list(tags) + ["O"]):
        if start >= 0 and (tag == "O" or tag.startswith("B-") or tag[2:] != kind):
            yield start, i, kind
            start = -1
        if tag != "O" and start < 0:
            start, kind = i, tag[2:]


def harmonise_document(sentences: list[list[str]], tags: list[list[str]]) -> list[list[str]]:
    """Relabel recurring names: majority type per string, untagged capitalised repeats filled in."""
    votes: dict[tuple[str, ...], Counter] = {}
    for words, sent_tags in zip(sentences, tags):
        for start, end, kind in bio_spans(sent_tags):
            votes.setdefault(tuple(words[start:end]), Counter())[kind] += 1
    names = {
        name: counter.most_common(1)[0][0]
        for name, counter in votes.items()
        if name[0][:1].isupper() and not (len(name) == 1 and len(name[0]) < 3)
    }
    if not names:
        return tags
    longest = max(len(name) for name in names)
    out: list[list[str]] = []
    for words, sent_tags in zip(sentences, tags):
        new = list(sent_tags)
        n = len(words)
        i = 0
        while i < n:
            matched = 0
            for length in range(min(longest, n - i), 0, -1):
                kind = names.get(tuple(words[i:i + length]))
                if kind is None:
                    continue
                window = new[i:i + length]
                inside = all(t == "O" for t in window) and (i + length == n or new[i + length][:2] != "I-")
                exact = window[0].startswith("B-") and all(t[2:] == window[0][2:] for t in window) and (
                    all(t.startswith("I-") for t in window[1:])
                    and (i + length == n or not new[i + length].startswith("I-"))
                )
                if inside or exact:
                    new[i] = "B-" + kind
                    for j in range(i + 1, i + length):
                        new[j] = "I-" + kind
                    matched = length
                    break
            i += matched or 1
        out.append(new)
    return out


def model_files(model_lang: str) -> list[Path]:
    """The CRF files of a language: the main model, then the news-only model when one ships."""
    files = [model_file(model_lang)]
    news = model_file(f"{model_lang}-news")
    if news.exists():
        files.append(news)
    return files


def model_file(name: str) -> Path:
    """Path of a CRF: the shipped ``<name>.crfsuite.gz`` unpacked once into the temp dir.

    crfsuite reads a plain file; the repository keeps the gzip (a third of the size).
    """
    plain = MODEL_DIR / f"{name}.crfsuite"
    packed = MODEL_DIR / f"{name}.crfsuite.gz"
    if plain.exists() or not packed.exists():
        return plain
    stat = packed.stat()
    target = Path(tempfile.gettempdir()) / "docingest-ner" / f"{name}-{stat.st_size}-{stat.st_mtime_ns}.crfsuite"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        with gzip.open(packed, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(partial, target)
    return target


_LOCK = threading.Lock()
_TAGGERS: dict[str, "CrfTagger | BiLstmTagger"] = {}


def load_tagger(model_lang: str) -> "CrfTagger | BiLstmTagger":
    """The cached tagger of one shipped model language (see ``model_language``): the BiLSTM-CRF
    (``ner_bilstm``) for the languages in ``BILSTM_LANGUAGES`` when its file loads, the CRF otherwise.
    The backend chosen for each language is logged once."""
    tagger = _TAGGERS.get(model_lang)
    if tagger is not None:
        return tagger
    with _LOCK:
        tagger = _TAGGERS.get(model_lang)
        if tagger is None:
            if model_lang not in MODEL_LANGUAGES:
                raise ValueError(f"no NER model for language {model_lang!r}; use model_language() first")
            tagger = _load_bilstm(model_lang) if model_lang in BILSTM_LANGUAGES else None
            if tagger is None:
                tagger = load_crf_tagger(model_lang)
                _LOG.info("NER model for %s: CRF (%s)", model_lang, ", ".join(p.name for p in model_files(model_lang)))
            _TAGGERS[model_lang] = tagger
    return tagger


def load_crf_tagger(model_lang: str) -> CrfTagger:
    """A new CRF tagger of one shipped model language (not cached; ``load_tagger`` caches)."""
    features = FeatureExtractor(read_clusters(MODEL_DIR / f"{model_lang}.clusters.tsv.gz"), _shared_gazetteer())
    return CrfTagger(model_files(model_lang), features)


def _load_bilstm(model_lang: str) -> "BiLstmTagger | None":
    """The BiLSTM-CRF of ``model_lang``, or None (logged) when its file is missing or does not load."""
    from docingest.stages import ner_bilstm

    path = ner_bilstm.model_path(MODEL_DIR, model_lang)
    if not path.is_file():
        _LOG.warning("NER model for %s: no %s, using the CRF", model_lang, path.name)
        return None
    try:
        tagger = ner_bilstm.load_bilstm(path, _shared_gazetteer())
    except Exception as error:  # numpy missing, a corrupt or inconsistent file: the CRF still works
        _LOG.warning("NER model for %s: %s does not load (%s: %s), using the CRF",
                     model_lang, path.name, type(error).__name__, error)
        return None
    _LOG.info("NER model for %s: BiLSTM-CRF (%s)", model_lang, path.name)
    return tagger
