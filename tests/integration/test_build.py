"""`sam build` of template.yaml: what Lambda would get, checked before a deploy.

The tests build for themselves (python3.12, no container: SAM downloads the layer's wheels for the
architecture) into ``.aws-sam/test-build/<arch>-<hash>``, keyed on template.yaml, shared/ and
functions/, so a second ``make test`` reuses the build; a lock keeps two test runs in one tree from
building at once. Each function's handler runs with python3.12 on the built files alone (no
site-packages: Lambda's sys.path), against moto, from a build for this machine's architecture (a
second build on x86_64).
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import pytest

from docingest_cli.template import load_sam, local_code_paths
from tests.conftest import REGION, ROOT, SAMPLES, TEMPLATE

BUILDS = ROOT / ".aws-sam" / "test-build"
# Lambda's limit for a function and all its layers, unzipped: 250 MB.
UNZIPPED_LIMIT = 250 * 1024 * 1024
EM_AARCH64, EM_X86_64 = 0xB7, 0x3E
HOST_ARCH, HOST_MACHINE = {"x86_64": ("x86_64", EM_X86_64), "amd64": ("x86_64", EM_X86_64),
                           "aarch64": ("arm64", EM_AARCH64), "arm64": ("arm64", EM_AARCH64)}[platform.machine().lower()]
SAM = load_sam(TEMPLATE)
CODE = local_code_paths(SAM)
FUNCTIONS = sorted(lid for lid, r in SAM["Resources"].items() if r["Type"] == "AWS::Serverless::Function")
LAYER = "SharedLayer"
# Pinned in shared/requirements.txt only because a kept package declares them (pip installs what a
# requirement declares); the functions never import them (see the comments in that file).
NEVER_IMPORTED = {"requests", "idna", "robust_downloader", "tqdm", "colorlog", "click", "fastwarc"}
# What Lambda's python3.12 runtime provides besides the standard library (/var/runtime).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "six")


def python312() -> Path:
    """The python3.12 sam build needs: PYTHON312, else PATH, else pyenv's versions (as the Makefile)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = sorted(pyenv.glob("versions/3.12*/bin/python3.12"),
                      key=lambda path: [int(part) for part in re.findall(r"\d+", path.parts[-3])], reverse=True)
    for candidate in filter(None, [os.environ.get("PYTHON312"), shutil.which("python3.12"), *map(str, versions)]):
        found = subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12); print(sys.executable)"],
                               capture_output=True, text=True)
        if found.returncode == 0:
            return Path(found.stdout.strip())
    pytest.fail("no Python 3.12 found (PYTHON312, PATH, pyenv): sam build needs the functions' runtime, python3.12; "
                "install it or set PYTHON312=/path/to/python3.12")


def source_hash() -> str:
    """What a build depends on: the template, the layer's folder and the functions' folders."""
    digest = hashlib.sha256(importlib.metadata.version("aws-sam-cli").encode())
    files = [TEMPLATE, *(ROOT / "shared").rglob("*"), *(ROOT / "functions").rglob("*")]
    for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def template_for(arch: str, folder: Path) -> Path:
    """template.yaml itself for arm64; for another architecture a copy with absolute code paths."""
    if arch == "arm64":
        return TEMPLATE
    text, count = re.subn(r"\b(Architectures: \[|BuildArchitecture: |CompatibleArchitectures: \[)arm64\b",
                          rf"\g<1>{arch}", TEMPLATE.read_text())
    assert count == 3, "template.yaml's architecture settings moved: update template_for()"
    text, count = re.subn(r"^(\s+(?:CodeUri|ContentUri): )(\S+)$",
                          lambda m: m.group(1) + str((ROOT / m.group(2)).resolve()) + "/", text, flags=re.MULTILINE)
    assert count == len(CODE)
    path = folder / "template.yaml"
    path.write_text(text)
    return path


def sam_build(arch: str) -> Path:
    """The build folder for ``arch``, built when the sources changed since the last one."""
    python = python312()  # fails, even with a build cached, on a machine that could not build
    target = BUILDS / f"{arch}-{source_hash()}"
    if (target / "template.yaml").is_file():
        return target
    BUILDS.mkdir(parents=True, exist_ok=True)
    with open(BUILDS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run in this tree may be building the same
        if (target / "template.yaml").is_file():
            return target
        for old in BUILDS.glob(f"{arch}-*"):  # builds of older sources, unless one may still be read
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{arch}-", dir=BUILDS))
        try:
            sam = Path(sys.executable).parent / "sam"
            environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
            result = subprocess.run([str(sam), "build", "--template", str(template_for(arch, work)),
                                     "--build-dir", str(work / "build")],
                                    cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1200)
            assert result.returncode == 0, f"sam build for {arch} failed:\n{result.stdout}\n{result.stderr}"
            (work / "build").rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


@pytest.fixture(scope="module")
def arm64_build() -> Path:
    return sam_build("arm64")


@pytest.fixture(scope="module")
def host_build() -> Path:
    return sam_build(HOST_ARCH)


def unzipped_size(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def elf_machine(path: Path) -> int | None:
    """e_machine of an ELF file (None if not ELF)."""
    with open(path, "rb") as file:
        header = file.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def native_files(folder: Path) -> dict[Path, int]:
    return {path: machine for path in folder.rglob("*")
            if path.is_file() and not path.is_symlink() and (machine := elf_machine(path)) is not None}


# the arm64 build: what would be deployed ---------------------------------------------------------


def test_the_layer_and_each_function_fit_lambdas_unzipped_limit(arm64_build):
    layer = unzipped_size(arm64_build / LAYER)
    for function in FUNCTIONS:
        total = layer + unzipped_size(arm64_build / function)
        assert total < UNZIPPED_LIMIT, f"{function} with the layer: {total / 2**20:.1f} MB unzipped, Lambda's limit is 250 MB"
    print(f"layer {layer / 2**20:.1f} MB unzipped")


def test_every_native_module_in_the_layer_is_aarch64(arm64_build):
    native = native_files(arm64_build / LAYER)
    assert any(path.name.startswith("etree.") for path in native), "lxml's etree .so: the scan found no native module"
    wrong = {str(path.relative_to(arm64_build)): hex(machine) for path, machine in native.items() if machine != EM_AARCH64}
    assert not wrong, f"native files not built for aarch64 (e_machine 0xb7; 0x3e is x86_64): {wrong}"
    for function in FUNCTIONS:
        assert not native_files(arm64_build / function), f"{function} ships native code: it belongs in the layer"


def test_each_function_build_holds_its_handler(arm64_build):
    for function in FUNCTIONS:
        handler = SAM["Resources"][function]["Properties"]["Handler"].rsplit(".", 1)[0] + ".py"
        built = arm64_build / function / handler
        assert built.is_file(), f"{function}: {handler} missing from the build"
        assert built.read_bytes() == (ROOT / CODE[function] / handler).read_bytes()


def test_the_layer_holds_docingest_and_its_data_under_python(arm64_build):
    source = ROOT / "shared" / "docingest"
    built = arm64_build / LAYER / "python" / "docingest"
    expected = {p.relative_to(source) for p in source.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert {p for p in expected if p.parts[0] == "data" and p.parts[1:2] == ("ner",)}, "no NER models in shared/"
    missing = sorted(str(p) for p in expected if not (built / p).is_file())
    assert not missing, f"missing from the layer's python/docingest: {missing}"
    for path in expected:
        assert (built / path).stat().st_size == (source / path).stat().st_size, path


def test_the_layer_installs_exactly_the_pinned_requirements(arm64_build):
    """Every distribution in the layer is pinned in shared/requirements.txt, at that version, and vice versa:
    a pin dropped from the file would come back unpinned (pip installs what a kept package declares)."""
    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    lines = (ROOT / "shared" / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in (line.split("#")[0].strip() for line in lines) if line)
    pinned = {canonical(name): version for name, version in pins.items()}
    installed = {}
    for info in (arm64_build / LAYER / "python").glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: (.+)$", metadata, re.MULTILINE).group(1).strip()
        installed[canonical(name)] = re.search(r"^Version: (.+)$", metadata, re.MULTILINE).group(1).strip()
    assert installed == pinned


# a build for this machine: the functions run on the built files --------------------------------------------

RUN_QUEUE = r"""
import importlib.util, json, sys, time
import boto3

handler_path, queue_url, queue_arn, layer = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("app", handler_path)
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)


class Context:  # what Powertools reads of Lambda's context
    function_name, memory_limit_in_mb, aws_request_id = "smoke", 1024, "smoke"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smoke"

    def get_remaining_time_in_millis(self):
        return 60_000


sqs = boto3.client("sqs")
handled, failed = 0, 0
while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages"):
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                          "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1"}
                         for m in messages]}
    response = app.lambda_handler(event, Context())
    failures = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failures:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    handled, failed = handled + len(messages), failed + len(failures)
    if failures:
        break
from_layer = {name.split(".")[0] for name, module in list(sys.modules.items())
              if (getattr(module, "__file__", None) or "").startswith(layer)}
print(json.dumps({"handled": handled, "failed": failed, "from_layer": sorted(from_layer)}))
"""


def test_each_function_runs_on_the_built_files_with_python312(host_build, deployment, tmp_path):
    from docingest_cli.emulator import EmbeddedServer, endpoint_environment, provision

    native = native_files(host_build / LAYER)
    assert native and set(native.values()) == {HOST_MACHINE}, f"the {HOST_ARCH} build must hold only {HOST_ARCH} native files"
    runtime = tmp_path / "runtime"  # Lambda's /var/runtime: boto3 and what it needs
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        module = Path(__import__(name).__file__)
        source = module.parent if module.name == "__init__.py" else module
        (runtime / source.name).symlink_to(source)
    layer = host_build / LAYER / "python"
    server = EmbeddedServer()
    endpoint = server.start()
    try:
        aws = endpoint_environment(endpoint, REGION, keep_credentials=False)  # None: unset
        session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        provision(deployment, session, endpoint)
        s3 = session.client("s3", endpoint_url=endpoint)
        sources = ["en/harbour-reopens.html", "pt/porto-novo.txt", "id/banjir-jakarta.txt"]
        for key in sources:
            s3.put_object(Bucket=deployment.inbox_bucket(), Key=key, Body=(SAMPLES / key).read_bytes())
        functions = deployment.functions(endpoint)
        resolver = deployment.resolver(endpoint)
        queues = {mapping.function: mapping.queue_logical_id for mapping in deployment.queue_mappings()}
        loaded = set()
        for function in ("FetchFunction", "CleanFunction", "DetectLanguageFunction", "ExtractEntitiesFunction"):
            environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON", "VIRTUAL_ENV"))}
            environment.update({key: value for key, value in aws.items() if value is not None})
            environment.update({**functions[function].environment, "POWERTOOLS_LOG_LEVEL": "WARNING",
                                "PYTHONPATH": os.pathsep.join(map(str, [host_build / function, layer, runtime]))})
            handler = host_build / function / (functions[function].handler.rsplit(".", 1)[0] + ".py")
            queue = queues[function]
            # -S: no site-packages, only the function, the layer and the runtime's boto3 (Lambda's sys.path)
            result = subprocess.run([str(python312()), "-S", "-c", RUN_QUEUE, str(handler), resolver.refs[queue],
                                     resolver.attributes[(queue, "Arn")], str(layer)],
                                    env=environment, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"{function}:\n{result.stderr[-5000:]}"
            report = json.loads(result.stdout.strip().splitlines()[-1])
            assert report["failed"] == 0 and report["handled"] >= len(sources), (function, report, result.stderr[-5000:])
            loaded |= set(report["from_layer"])
        table = session.resource("dynamodb", endpoint_url=endpoint).Table(deployment.physical_ids["DocumentTable"])
        records = table.scan()["Items"]
        assert sorted((r["source"].removeprefix(f"s3://{deployment.inbox_bucket()}/"), r["status"], r.get("language")) for r in records) == [
            ("en/harbour-reopens.html", "DONE", "en"), ("id/banjir-jakarta.txt", "DONE", "id"), ("pt/porto-novo.txt", "DONE", "pt")]
        assert all(r["entity_count"] > 0 for r in records)
        assert {"docingest", "lxml", "resiliparse", "fasttext", "pycrfsuite", "pydantic", "aws_lambda_powertools"} <= loaded
        assert not loaded & NEVER_IMPORTED, "now imported: update NEVER_IMPORTED and shared/requirements.txt's comments"
    finally:
        server.stop()
