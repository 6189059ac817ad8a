"""Fault run: bad input within the function limits, and no document lost through crashes and retries.

    .venv/bin/python bench/faults.py [--documents 1000] [--chaos 0.1] [--seed 7] [--skip-limits] [--skip-run]

Part 1, limits: the full-size bad-input corpus (tests/bad_inputs.py: gzip, NUL bytes, non-text
charsets, 200,000 nested divs, a million <p>, a 9.5 MB line...) and a few normal documents go
through each stage's code in a process of its own, as each function has its own; prints every
document's outcome and each stage's longest time and peak RSS against the function's timeout and
memory in template.yaml.

Part 2, the fault run: N documents (the bad-input corpus plus generated articles) are dropped into
`ingest up --state DIR --chaos RATE` (RATE of deliveries fail before the handler, RATE are reported
failed after it succeeded: duplicate deliveries); the emulator is killed with SIGKILL once a third of
the documents are final and restarted on the same state. Prints lost documents, duplicated records,
documents not DONE/FAILED and entity-index counts that disagree (all must be 0).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STAGES = ("fetch", "clean", "detect_language", "extract_entities")


# part 1: each stage's code on the corpus, in a process of its own ----------------------------


def function_limits() -> dict[str, tuple[int, int]]:
    """Stage -> (timeout seconds, memory MB) from the expanded template."""
    from docingest_cli.deployment import Deployment

    deployment = Deployment.load(ROOT / "template.yaml", "us-east-1")
    functions = deployment.functions(None)
    names = {"FetchFunction": "fetch", "CleanFunction": "clean", "DetectLanguageFunction": "detect_language",
             "ExtractEntitiesFunction": "extract_entities"}
    limits = {}
    for logical_id, function in functions.items():
        properties = deployment.translated["Resources"][logical_id]["Properties"]
        limits[names[logical_id]] = (int(function.timeout), int(properties.get("MemorySize", 128)))
    return limits


def run_stage_process(stage: str, work: Path) -> None:
    """In a child: run one stage over every document the previous stage left in ``work``."""
    from docingest.config import Settings
    from docingest.errors import BadInput

    settings = Settings.from_env()
    source = work / ("input" if stage == "fetch" else STAGES[STAGES.index(stage) - 1])
    target = work / stage
    target.mkdir(exist_ok=True)
    timings = {}
    warm_up(stage)
    for path in sorted(source.iterdir()):
        started = time.perf_counter()
        try:
            result = run_one(stage, path, settings)
            outcome = {"status": "ok", **result}
        except BadInput as error:
            outcome = {"status": "FAILED", "error": str(error)}
        timings[path.name] = time.perf_counter() - started
        if outcome["status"] == "ok":
            (target / path.name).write_text(json.dumps(outcome["carry"]))
        outcome.pop("carry", None)
        outcome["seconds"] = timings[path.name]
        outcome["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"document": path.name, **outcome}), flush=True)


def warm_up(stage: str) -> None:
    if stage == "detect_language":
        from docingest.stages.detect_language import detect_language

        detect_language("warm up")
    if stage == "extract_entities":
        from docingest.stages.extract_entities import extract_entities

        extract_entities("Warm up in Lisbon.", "en")


def run_one(stage: str, path: Path, settings) -> dict:
    if stage == "fetch":
        from docingest.errors import BadInput
        from docingest.stages import fetch

        data = path.read_bytes()
        if len(data) > settings.max_document_bytes:
            raise BadInput(f"too large: {len(data)} bytes")
        content_type = fetch.sniff_content_type(data, path.name)
        if content_type == fetch.URL_LIST:
            urls = fetch.parse_url_list(fetch.decode_bytes(data).text)
            if not urls:
                raise BadInput("empty URL list: no URL found")
            return {"note": f"URL list of {len(urls)}", "carry": {"url_list": True}}
        decoded = fetch.decode_bytes(data, fetch.declared_charset(data))
        return {"carry": {"text": decoded.text, "content_type": content_type}}
    carried = json.loads(path.read_text())
    if carried.get("url_list"):
        return {"note": "URL list", "carry": carried}
    if stage == "clean":
        from docingest.stages.clean import clean

        result = clean(carried["text"], carried["content_type"], max_elements=settings.max_html_elements,
                       max_lines=settings.max_text_lines)
        return {"chars": len(result.text), "carry": {"text": result.text}}
    if stage == "detect_language":
        from docingest.stages.detect_language import detect_language

        result = detect_language(carried["text"])
        return {"language": result.language, "carry": {**carried, "language": result.language}}
    from docingest.pipeline import text_within
    from docingest.stages.entity_keys import summarise
    from docingest.stages.extract_entities import extract_entities

    searched = text_within(carried["text"], settings.max_entity_text_chars)
    entities = extract_entities(searched, carried["language"])[:settings.max_entities]
    summarise(searched, entities)
    return {"entities": len(entities), "searched_chars": len(searched), "carry": {}}


def limits_part(seed: int) -> bool:
    from pipeline import generate
    from tests.bad_inputs import corpus

    limits = function_limits()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "input").mkdir()
        items = corpus(small=False)
        for item in items:
            (work / "input" / item.name).write_bytes(item.data)
        for path in generate(work / "normal", 5, seed):
            (work / "input" / f"normal-{path.name}").write_bytes(path.read_bytes())
        expected = {item.name: item for item in items}
        outcomes: dict[str, dict] = {}
        print(f"part 1: {len(items)} bad inputs ({sum(len(i.data) for i in items) / 1e6:.1f} MB) and 5 normal documents,"
              " each stage in a process of its own\n")
        print(f"{'stage':<18}{'longest s':>10}{'timeout s':>10}{'peak RSS MB':>13}{'memory MB':>11}  longest document")
        for stage in STAGES:
            result = subprocess.run([sys.executable, __file__, "--stage-process", stage, str(work)], capture_output=True,
                                    text=True, cwd=ROOT)
            rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
            if result.returncode != 0:
                print(result.stderr[-2000:])
                ok = False
            for row in rows:
                outcomes.setdefault(row["document"], {})[stage] = row
            longest = max(rows, key=lambda row: row["seconds"])
            peak = max(row["peak_mb"] for row in rows)
            timeout, memory = limits[stage]
            within = longest["seconds"] < timeout - 5 and peak < memory
            ok &= within
            print(f"{stage:<18}{longest['seconds']:>10.2f}{timeout:>10}{peak:>13.0f}{memory:>11}  {longest['document']}"
                  f"{'' if within else '  OVER THE LIMIT'}")
        print(f"\n{'document':<28}{'ends':<8}reason or result")
        for name in sorted(outcomes):
            stages = outcomes[name]
            failed = next((row for row in stages.values() if row["status"] == "FAILED"), None)
            status = "FAILED" if failed else "DONE"
            detail = failed["error"] if failed else ", ".join(
                f"{k}={v}" for row in stages.values() for k, v in row.items() if k in ("language", "entities", "searched_chars", "note"))
            want = expected.get(name)
            mismatch = want is not None and want.status != status
            ok &= not mismatch
            print(f"{name:<28}{status:<8}{detail[:110]}{'  EXPECTED ' + want.status if mismatch else ''}")
    return ok


# part 2: the fault run through the emulator --------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(port: int, state: Path, chaos: float, seed: int, log) -> subprocess.Popen:
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "ingest"), "up", "--port", str(port), "--state", str(state),
                                "--chaos", str(chaos), "--chaos-seed", str(seed)],
                               stdout=log, stderr=log, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(2)  # pollers start after the resources exist
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("ingest up exited; see its log")
            time.sleep(0.2)
    raise RuntimeError("ingest up did not start")


def fault_run(count: int, chaos: float, seed: int, timeout: float) -> bool:
    import boto3

    from pipeline import generate
    from tests.bad_inputs import corpus

    from docingest.stages.fetch import document_id
    from docingest_cli.deployment import Deployment

    deployment = Deployment.load(ROOT / "template.yaml", "us-east-1")
    environment = deployment.settings_environment("http://127.0.0.1")
    bad = [item for item in corpus(small=False) if not item.name.endswith(".urls")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        normal = generate(work / "docs", max(0, count - len(bad)), seed)
        files = [(f"bad/{item.name}", item.data) for item in bad] + [
            (f"{path.parent.name}/{path.name}", path.read_bytes()) for path in normal]
        expected_ids = {document_id(data) for _, data in files}
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
        session = boto3.session.Session(region_name="us-east-1")
        s3 = session.client("s3", endpoint_url=endpoint)
        table = session.resource("dynamodb", endpoint_url=endpoint).Table(environment["DOCUMENT_TABLE"])
        log = open(work / "emulator.log", "wb")
        state = work / "state"
        print(f"\npart 2: {len(files)} documents ({len(bad)} bad inputs), chaos {chaos}, state in {state}")
        started = time.monotonic()
        process = start_emulator(port, state, chaos, seed, log)
        for key, data in files:
            s3.put_object(Bucket=deployment.inbox_bucket(), Key=key, Body=data)
        print(f"  dropped {len(files)} files in {time.monotonic() - started:.0f} s")
        killed = False
        final = records = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(3)
            try:
                records = {item["doc_id"]: item for item in scan(table)}
            except Exception as error:  # the emulator is restarting
                print(f"  scan failed ({error.__class__.__name__}); retrying")
                continue
            final = {doc_id for doc_id, item in records.items() if item["status"] in ("DONE", "FAILED")}
            if not killed and len(final & expected_ids) >= len(expected_ids) / 3:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                print(f"  SIGKILL at {len(final & expected_ids)}/{len(expected_ids)} final, {time.monotonic() - started:.0f} s in")
                process = start_emulator(port, state, chaos, seed + 1, log)
                killed = True
                print(f"  restarted on the same state, {time.monotonic() - started:.0f} s in")
                continue
            if expected_ids <= final:
                break
        elapsed = time.monotonic() - started
        index_mismatches = check_entity_index(session, endpoint, environment)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
        lost = expected_ids - set(records)
        unfinished = {doc_id for doc_id in expected_ids & set(records) if records[doc_id]["status"] not in ("DONE", "FAILED")}
        extra = set(records) - expected_ids  # a record no input accounts for: a duplicate
        statuses = {}
        for doc_id in expected_ids & set(records):
            statuses[records[doc_id]["status"]] = statuses.get(records[doc_id]["status"], 0) + 1
        gave_up = sum(1 for doc_id in expected_ids & set(records) if records[doc_id].get("error_kind") == "gave_up")
        print(f"  finished in {elapsed:.0f} s: {statuses} ({gave_up} gave up after the injected failures)")
        print(f"\n  lost documents:               {len(lost)}")
        print(f"  duplicated records:           {len(extra)}")
        print(f"  documents not DONE/FAILED:    {len(unfinished)}")
        print(f"  entity counts that disagree:  {index_mismatches}")
        if lost or extra or unfinished:
            print("  examples:", sorted(lost)[:3], sorted(extra)[:3], [records[d]["status"] for d in sorted(unfinished)[:3]])
        return not (lost or extra or unfinished or index_mismatches)


def scan(table) -> list[dict]:
    items, kwargs = [], {"ProjectionExpression": "doc_id, #s, error_kind", "ExpressionAttributeNames": {"#s": "status"}}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check_entity_index(session, endpoint: str, environment: dict[str, str]) -> int:
    """Entities whose summary count differs from the sum of their per-document items (a double count)."""
    table = session.resource("dynamodb", endpoint_url=endpoint).Table(environment["ENTITY_INDEX_TABLE"])
    summaries, documents = {}, {}
    kwargs: dict = {}
    while True:
        page = table.scan(**kwargs)
        for item in page["Items"]:
            if item["sk"] == "#SUMMARY":
                summaries[item["pk"]] = int(item.get("mention_count", 0))
            elif item["sk"].startswith("DOC#"):
                documents[item["pk"]] = documents.get(item["pk"], 0) + int(item.get("mentions", 0))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sum(1 for key, count in summaries.items() if documents.get(key, 0) != count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--chaos", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--skip-limits", action="store_true")
    parser.add_argument("--skip-run", action="store_true")
    parser.add_argument("--stage-process", nargs=2, metavar=("STAGE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage_process:
        run_stage_process(args.stage_process[0], Path(args.stage_process[1]))
        return 0
    ok = True
    if not args.skip_limits:
        ok &= limits_part(args.seed)
    if not args.skip_run:
        ok &= fault_run(args.documents, args.chaos, args.seed, args.timeout)
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
