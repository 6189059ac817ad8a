"""Cold start of each function: a fresh interpreter imports the handler module and runs its stage once
on a small document (as the first invocation of a new Lambda execution environment would).

    .venv/bin/python bench/cold_start.py [--repeat 5]

Prints, per function, the median over --repeat fresh processes of: import time of the handler module,
time of the first stage call (models load lazily on it), and peak RSS of the process.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("Prime Minister Helga Andersen of Norway arrived in Berlin on Monday, 3 March 2025, for talks with the "
        "European Commission. Andersen told reporters that the meeting had been useful.")
HTML = f"<html><head><title>Talks in Berlin</title></head><body><article><p>{TEXT}</p></article></body></html>"

PROBE = r"""
import json, os, resource, sys, time
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "docingest")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DocIngest")
function, text, html = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join("functions", function))
start = time.perf_counter()
import app  # noqa: F401  (the handler module, with its imports)
imported = time.perf_counter()
if function == "fetch":
    from docingest.stages.fetch import decode_bytes
    decode_bytes(html.encode("utf-8"), None)
elif function == "clean":
    from docingest.stages.clean import clean
    clean(html, "text/html")
elif function == "detect_language":
    from docingest.stages.detect_language import detect_language
    detect_language(text)
else:
    from docingest.stages.extract_entities import extract_entities
    extract_entities(text, "en", os.environ.get("ENTITY_BACKEND", "crf"))
done = time.perf_counter()
print(json.dumps({"import": imported - start, "first_call": done - imported,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("$ .venv/bin/python bench/cold_start.py " + " ".join(sys.argv[1:]))
    print(f"{'function':<18} {'import s':>9} {'first call s':>13} {'total s':>8} {'peak RSS MB':>12}")
    for function in ("fetch", "clean", "detect_language", "extract_entities"):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, "-c", PROBE, function, TEXT, HTML], cwd=ROOT, capture_output=True,
                                 text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        imported = statistics.median(r["import"] for r in runs)
        first = statistics.median(r["first_call"] for r in runs)
        total = statistics.median(r["import"] + r["first_call"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        print(f"{function:<18} {imported:>9.3f} {first:>13.3f} {total:>8.3f} {rss:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
