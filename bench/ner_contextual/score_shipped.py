"""Score the shipped id/pt NER models on their dev sets: the BiLSTM-CRF (docingest/data/ner/<lang>.bilstm.npz,
numpy, as ner_crf.load_tagger picks it) against the CRF of the same language, in one run.

    cd /work/main
    .venv/bin/python bench/ner_contextual/score_shipped.py [--quick] [--out results-shipped.json]

Same scoring path as train_contextual.py's evaluate(): each record's raw text through the extract_entities
stage with the tagger under test put into ner_crf's tagger cache (tokenisation, sentence splitting,
harmonise_document, the capitalised-common-word filter, dates and offsets identical), bench/quality_ner.py's
record scoring (exact character spans, micro P/R/F1, the set's types; HAREM: PER/ORG/LOC), tokens per CPU
second of the whole stage after a warm-up call, one BLAS thread (as train_contextual.py), and the paired
bootstrap over records of the F1 difference.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import train_contextual as tc  # noqa: E402  (puts bench/ and shared/ on sys.path)
import quality_ner  # noqa: E402
from docingest.stages import ner_bilstm, ner_crf  # noqa: E402
from docingest.stages.extract_entities import extract_entities as stage  # noqa: E402

SETS = {"id": ["id-idner-news-2k", "id-indolem-nerugm", "id-indolem-nerui"],
        "pt": ["pt-wikiann", "pt-lener-br", "pt-harem-first"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 records per set")
    parser.add_argument("--out", type=Path, default=HERE / "results-shipped.json")
    args = parser.parse_args()
    started = time.time()
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} load {os.getloadavg()}", flush=True)
    rows = []
    for lang, sets in SETS.items():
        bilstm = ner_crf.load_tagger(lang)
        assert isinstance(bilstm, ner_bilstm.BiLstmTagger), f"{lang}: the BiLSTM file did not load"
        taggers = {"crf": ner_crf.load_crf_tagger(lang), "bilstm": bilstm}

        def system(tagger):
            def extract(text, language):
                previous = ner_crf._TAGGERS.get(lang)
                ner_crf._TAGGERS[lang] = tagger
                try:
                    return stage(text, language, "crf")
                finally:
                    ner_crf._TAGGERS[lang] = previous
            return extract

        size = {"crf": ((ner_crf.MODEL_DIR / f"{lang}.crfsuite.gz").stat().st_size
                        + (ner_crf.MODEL_DIR / f"{lang}.clusters.tsv.gz").stat().st_size) / 1e6,
                "bilstm": ner_bilstm.model_path(ner_crf.MODEL_DIR, lang).stat().st_size / 1e6}
        for name in sets:
            records = quality_ner.subsample(quality_ner.read_set(name, "dev"), args.quick)
            types = quality_ner.gold_types(records) if name != "pt-harem-first" else {"PER", "ORG", "LOC"}
            types = types & set(quality_ner.NAME_TYPES) | ({"DATE"} & types)
            row = {"set": name, "records": len(records), "mb": size}
            counts = {}
            for key, tagger in taggers.items():
                extract = system(tagger)
                extract("Warm up in Lisboa.", lang)
                timer = quality_ner.Timer()
                total = quality_ner.Score()
                per_record = []
                for record in records:
                    one = quality_ner.run_system(extract, [record], types, lang, timer)
                    total.merge(one)
                    per_record.append([sum(one.tp.values()), sum(one.fp.values()), sum(one.fn.values())])
                counts[key] = np.array(per_record, dtype=np.float64)
                p, r, f, gold = total.prf()
                row[key] = {"p": p, "r": r, "f1": f, "gold": gold, "tok_s": timer.tokens / timer.cpu,
                            "per_type": {k: total.prf(k)[2] for k in total.types()}}
                print(f"  {name:22s} {key:6s} P {p:.3f} R {r:.3f} F1 {f:.3f} {timer.tokens / timer.cpu:8.0f} tok/s",
                      flush=True)
            row["ci"] = tc.bootstrap({"ctx-torch": counts["bilstm"], "crf": counts["crf"]})
            print(f"  {name:22s} bilstm - crf {row['bilstm']['f1'] - row['crf']['f1']:+.3f} "
                  f"[{row['ci'][0]:+.3f}, {row['ci'][1]:+.3f}]", flush=True)
            rows.append(row)
    args.out.write_text(json.dumps(rows, indent=1))
    print("\n| set | CRF F1 | BiLSTM F1 | diff | 95% CI | CRF tok/s | BiLSTM tok/s | CRF MB | BiLSTM MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        c, b = row["crf"], row["bilstm"]
        print(f"| {row['set']} | {c['f1']:.3f} | {b['f1']:.3f} | {b['f1'] - c['f1']:+.3f} | "
              f"[{row['ci'][0]:+.3f}, {row['ci'][1]:+.3f}] | {c['tok_s']:.0f} | {b['tok_s']:.0f} | "
              f"{row['mb']['crf']:.1f} | {row['mb']['bilstm']:.1f} |")
    for row in rows:
        kinds = sorted(set(row["crf"]["per_type"]) | set(row["bilstm"]["per_type"]))
        print(f"  {row['set']}: " + ", ".join(f"{k} {row['crf']['per_type'].get(k, 0):.3f}/"
                                             f"{row['bilstm']['per_type'].get(k, 0):.3f}" for k in kinds))
    print(f"total {time.time() - started:.0f}s, load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
