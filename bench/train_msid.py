"""Build the Malay/Indonesian word table the langid arbiter reads (shared/docingest/data/msid_words.tsv.gz).

    .venv/bin/pip install wordfreq==3.1.1     # training only: the functions never import it
    .venv/bin/python bench/train_msid.py [--min-ratio 0.5] [--clip 4]

For every word in wordfreq's small Malay (ms) and Indonesian (id) lists (Wikipedia, OpenSubtitles and
Twitter counts; about 29k and 31k words) the table keeps r = log((f_ms + 1e-6) / (f_id + 1e-6)), clipped
to +-clip and rounded to 0.1, when |r| >= min-ratio: positive leans Malay (kerana, bahawa, kasut), negative
Indonesian (karena, bahwa, sepatu). Data: wordfreq's lists are CC BY-SA 4.0 (credited in the table's header line
and in shared/docingest/data/langid_model_card.md); nothing of the project's evaluation sets is used.
"""
from __future__ import annotations

import argparse
import gzip
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "shared" / "docingest" / "data" / "msid_words.tsv.gz"
FLOOR = 1e-6


def build(min_ratio: float, clip: float) -> list[tuple[str, float]]:
    import wordfreq

    ms = wordfreq.get_frequency_dict("ms", wordlist="small")
    ind = wordfreq.get_frequency_dict("id", wordlist="small")
    rows = []
    for word in sorted(set(ms) | set(ind)):
        if not word.replace("-", "").isalpha():
            continue
        ratio = math.log((ms.get(word, 0.0) + FLOOR) / (ind.get(word, 0.0) + FLOOR))
        ratio = max(-clip, min(clip, ratio))
        if abs(ratio) >= min_ratio:
            rows.append((word, round(ratio, 1)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-ratio", type=float, default=0.5)
    parser.add_argument("--clip", type=float, default=4.0)
    args = parser.parse_args()
    rows = build(args.min_ratio, args.clip)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write(f"# log(f_ms/f_id) from wordfreq 3.1.1 small lists (CC BY-SA 4.0, Robyn Speer et al.), "
                  f"|r| >= {args.min_ratio}, clipped at {args.clip}; built by bench/train_msid.py\n")
        for word, ratio in rows:
            out.write(f"{word}\t{ratio}\n")
    print(f"{len(rows)} words -> {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
