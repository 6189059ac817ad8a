PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

BENCH_STAMP := $(VENV)/.bench-installed
TRAIN_STAMP := $(VENV)/.train-installed

.PHONY: run test lint-template bench bench-quality train-ner clean-venv

# Creates .venv from the pinned lock file on first use (and when the pins change).
$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ingest run samples

test: $(STAMP)
	$(BIN)/python -m pytest

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
