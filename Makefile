# One task runner for set-up, running, tests, lint and benchmarks.
# `make run` and `make test` do all set-up themselves (idempotently).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INDEX ?= index
STAMP := $(VENV)/.installed

.PHONY: setup models llm-model system-deps index run test test-fast lint bench bench-generate clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,milvus,llm]'
	touch $(STAMP)

setup: $(STAMP) models

models: $(STAMP)
	$(PY) -m qa.app.cli models fetch

# the local instruct LLM (chosen for this machine) that generative answers and their
# integration test serve; not needed for extractive answers
llm-model: $(STAMP)
	$(PY) -m qa.generate.local fetch

index: setup
	$(PY) -m qa.app.cli ingest corpus --index $(INDEX)

run: index
	$(PY) app.py --index $(INDEX)

# Debian's Chromium and CJK fonts for the browser and OCR tests (apt, idempotent)
system-deps:
	bash .ci/system-deps

# every test runs: a skipped test fails the run (QA_REQUIRE_ALL)
test: setup llm-model system-deps
	QA_REQUIRE_ALL=1 $(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not integration"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/retrieval.py
	$(PY) bench/latency.py
	$(PY) bench/load.py --out bench/results/load.md

# generative answers from the small local model beside extractive ones (needs the llm extra)
bench-generate: setup llm-model
	$(PY) bench/generate.py --out bench/results/generate.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
