"""Pipeline throughput: the embedded emulator (`ingest run`) against the stages called in one loop.

    .venv/bin/python bench/pipeline.py [--documents 500] [--seed 7] [--runs 3]

Generates N documents from the project's own samples (mixed languages, HTML and text, sizes from
one to four copies of the article), runs them through `ingest run` on the embedded emulator, then
through fetch-decode, clean, detect_language and extract_entities called directly (the compute
bound). Prints docs/s for both and their ratio for each of --runs measurements (the median is the
result), each stage's share of the direct time, and peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the direct loop runs the models as the functions do (template.yaml)
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [p for p in sorted((ROOT / "samples").rglob("*")) if p.is_file() and "bad" not in p.parts]


def generate(directory: Path, count: int, seed: int) -> list[Path]:
    """Distinct documents (a unique marker changes each hash) of varied size."""
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        sample = SAMPLES[index % len(SAMPLES)]
        text = sample.read_text(encoding="utf-8")
        copies = rng.choice([1, 1, 2, 4])
        marker = f"Ref. {index:05d}."
        if sample.suffix == ".html":
            closing = "</article>" if "</article>" in text else "</body>"
            extra = "".join(f"<p>{marker} Paragraph {c} of the appendix to this report.</p>" for c in range(copies))
            body = text.replace(closing, extra + closing, 1)
        else:
            body = "\n".join([text] * copies) + f"\n{marker}\n"
        path = directory / sample.parent.name / f"{index:05d}{sample.suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def run_emulator(directory: Path, count: int) -> tuple[float, int, float, float]:
    """Seconds, documents DONE, peak RSS (MB) and CPU seconds of `ingest run` and all its processes."""
    command = [str(ROOT / ".venv" / "bin" / "ingest"), "run", str(directory), "--output", "json", "--timeout", "3600"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        cpu, peak = watch_tree(process)
        elapsed = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    done = sum(row["status"] == "DONE" for row in rows)
    if len(rows) != count:
        print(stderr[-3000:], file=sys.stderr)
    return elapsed, done, peak, cpu


def watch_tree(process: subprocess.Popen) -> tuple[float, float]:
    """Wait for ``process``; CPU seconds of it and every process below it (the workers are forked by a
    server process, so rusage of waited children misses them), and the largest RSS (MB) among them."""
    if not Path("/proc/self/stat").exists():  # not Linux: what rusage sees
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, after.ru_maxrss / 1024
    ticks, page_mb = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE") / 2**20
    cpu: dict[int, float] = {}
    peak = 0.0
    while process.poll() is None:
        parents: dict[int, int] = {}
        stats: dict[int, list[str]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry)], stats[int(entry)] = int(fields[1]), fields
        tree, frontier = set(), {process.pid}
        while frontier:
            tree |= frontier
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
        for pid in tree & stats.keys():
            fields = stats[pid]
            cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
            peak = max(peak, int(fields[21]) * page_mb)
        time.sleep(0.25)
    return sum(cpu.values()), peak


def run_direct(paths: list[Path]) -> tuple[float, dict[str, float], float]:
    from docingest.stages.clean import clean
    from docingest.stages.detect_language import detect_language
    from docingest.stages.extract_entities import extract_entities
    from docingest.stages.fetch import declared_charset, decode_bytes, document_id, sniff_content_type

    detect_language("warm up the model")
    shares = {"fetch (hash, sniff, decode)": 0.0, "clean": 0.0, "detect_language": 0.0, "extract_entities": 0.0}
    cpu_started = time.process_time()
    started = time.perf_counter()
    for path in paths:
        data = path.read_bytes()
        t0 = time.perf_counter()
        document_id(data)
        content_type = sniff_content_type(data, path.name)
        text = decode_bytes(data, declared_charset(data)).text
        t1 = time.perf_counter()
        cleaned = clean(text, content_type)
        t2 = time.perf_counter()
        language = detect_language(cleaned.text)
        t3 = time.perf_counter()
        extract_entities(cleaned.text, language.language)
        t4 = time.perf_counter()
        for key, seconds in zip(shares, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            shares[key] += seconds
    return time.perf_counter() - started, shares, time.process_time() - cpu_started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3,
                        help="emulator and direct loop measured this many times, one after the other (this machine's "
                             "speed moves by 15%% from minute to minute); the median ratio is the result")
    args = parser.parse_args()
    ratios, all_done = [], True
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        paths = generate(directory, args.documents, args.seed)
        size_kb = sum(p.stat().st_size for p in paths) / 1024
        n = len(paths)
        print(f"{n} documents, {size_kb:.0f} KB, from {len(SAMPLES)} samples (seed {args.seed})")
        for run in range(1, args.runs + 1):
            emulator_seconds, done, emulator_peak, emulator_cpu = run_emulator(directory, n)
            direct_seconds, shares, direct_cpu = run_direct(paths)
            direct_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ratios.append(direct_seconds / emulator_seconds)
            all_done &= done == n
            print(f"\nrun {run} of {args.runs}")
            print(f"{'path':<44}{'seconds':>9}{'docs/s':>9}{'CPU ms/doc':>12}{'cores used':>12}{'peak RSS MB':>13}")
            print(f"{'ingest run (embedded emulator, end to end)':<44}{emulator_seconds:>9.1f}{n / emulator_seconds:>9.1f}"
                  f"{1000 * emulator_cpu / n:>12.1f}{emulator_cpu / emulator_seconds:>12.2f}{emulator_peak:>13.0f}")
            print(f"{'stages called directly in one loop':<44}{direct_seconds:>9.1f}{n / direct_seconds:>9.1f}"
                  f"{1000 * direct_cpu / n:>12.1f}{direct_cpu / direct_seconds:>12.2f}{direct_peak:>13.0f}")
            print(f"emulator / direct throughput: {ratios[-1]:.2f}  ({done}/{n} DONE through the emulator)")
    print(f"\n(CPU: all processes of the path, on the machine's {os.cpu_count()} cores; the emulator's includes its "
          "start-up. Cores used: CPU seconds per second of the path; the emulator's is lower during its start-up "
          "and its last batches, and when something else holds the machine)")
    print("share of the direct time per stage (last run)")
    for stage, seconds in shares.items():
        print(f"  {stage:<28}{100 * seconds / direct_seconds:>6.1f}%  {1000 * seconds / n:>7.2f} ms/doc")
    print(f"\nemulator / direct throughput, median of {len(ratios)} runs: {statistics.median(ratios):.2f}  "
          f"(runs: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0 if all_done else 1


if __name__ == "__main__":
    sys.exit(main())
