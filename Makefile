PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov gets a venv of its own inside .venv (so clean-venv removes both): its pins conflict with
# requirements-dev.lock (checkov 3.3.30 pins boto3==1.35.49; the newest that resolves with the dev pins
# is 2.0.708, from 2022). docingest_cli.template_check finds it there.
LINT_VENV := $(VENV)/lint
LINT_STAMP := $(LINT_VENV)/.installed

BENCH_STAMP := $(VENV)/.bench-installed
TRAIN_STAMP := $(VENV)/.train-installed

.PHONY: run test build lint-template bench bench-quality train-ner clean-venv

# Creates .venv from the pinned lock files on first use (and when the pins change); the template
# tests run checkov, so the lint venv comes with it.
$(STAMP): requirements-dev.lock pyproject.toml $(LINT_STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(LINT_STAMP): requirements-lint.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(LINT_VENV)/bin/python -m pip install --quiet -r requirements-lint.lock
	touch $(LINT_STAMP)

# samples/bad/ fails on purpose: exit status 3 (every document finished, some FAILED) is the expected end.
run: $(STAMP)
	$(BIN)/ingest run samples || test $$? -eq 3

test: $(STAMP)
	$(BIN)/python -m pytest

# sam build's python3.12 build method runs pip with a python3.12 from PATH (it downloads the layer's
# arm64 wheels: no container). PYTHON312: the first that runs, from PATH, then pyenv's versions;
# PYTHON312=/path/to/python3.12 to choose. tests/integration/test_build.py finds it the same way.
PYTHON312 ?= $(shell for p in $$(command -v python3.12) $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | sort -rV); do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12); print(sys.executable)' 2>/dev/null && break; done)

# The deployable artifacts for arm64 in .aws-sam/build (then: sam deploy --guided).
build: $(STAMP)
	@test -n "$(PYTHON312)" || { echo "make build: no Python 3.12 found (on PATH or in pyenv): sam build needs the functions' runtime, python3.12; install it or pass PYTHON312=/path/to/python3.12"; exit 1; }
	PATH="$(dir $(PYTHON312)):$$PATH" SAM_CLI_TELEMETRY=0 $(BIN)/sam build --template template.yaml

# sam validate --lint; then cfn-lint and checkov (suppressions in .checkov.yaml) on the translated template.
lint-template: $(STAMP)
	$(BIN)/sam validate --lint --region us-east-1 --template template.yaml
	$(BIN)/python -m docingest_cli.template_check template.yaml

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

# The reference tools the quality benchmarks compare against (not needed by `make test`).
$(BENCH_STAMP): $(STAMP) requirements-bench.lock
	$(BIN)/python -m pip install --quiet -r requirements-bench.lock -c requirements-dev.lock
	touch $(BENCH_STAMP)

bench-quality: $(BENCH_STAMP)
	$(BIN)/python bench/quality_clean.py
	$(BIN)/python bench/quality_boilerplate.py
	$(BIN)/python bench/quality_langid.py

# Training-only extras (numpy, scipy for the word clusters); the shipped model needs neither.
$(TRAIN_STAMP): $(STAMP) requirements-train.lock
	$(BIN)/python -m pip install --quiet -r requirements-train.lock -c requirements-dev.lock
	touch $(TRAIN_STAMP)

# Reproduces shared/docingest/data/ner/ from ../shared/data/ner (fixed seed, about an hour on 2 cores).
train-ner: $(TRAIN_STAMP)
	$(BIN)/python bench/train_ner.py

clean-venv:
	rm -rf $(VENV)
