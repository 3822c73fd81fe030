# innograph: `make help` lists the targets. `make test` is exactly what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The catalogue question `make run` answers: short enough to read in a terminal.
QUESTION ?= queries/cities-by-policy-area.rq

.PHONY: help setup run shell test test-fast test-backends lint format fuzz lock audit
# The HTTP suite that runs again over store servers (two Oxigraph slots, two Virtuoso slots)
BACKEND_SUITE := tests/web/test_protocol.py tests/web/test_http.py tests/web/test_canned_queries.py \
  tests/web/test_pages.py tests/web/test_limits.py tests/web/test_w3c_protocol.py tests/web/test_sparqlwrapper.py
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed ## Create the virtual environment and install innograph with its test tools

run: setup ## The main job: parse the shipped profiles, build the store, query it, serve it (PORT=8000)
	@echo "== innograph parse data/profiles/*.txt   (what each profile says)"
	@$(BIN)/innograph parse data/profiles/*.txt
	@echo "== innograph build   (data/profiles/ into store/, checked against the shapes)"
	@$(BIN)/innograph build --store store --quiet
	@echo "== innograph query $(QUESTION)"
	@sed -n 's/^# /   /p' $(QUESTION) | head -n 1
	@$(BIN)/innograph query $(QUESTION) --store store
	@echo "== innograph serve --port $(PORT)   (make run PORT=8001 for another port)"
	@$(BIN)/innograph serve --store store --host 127.0.0.1 --port $(PORT)

shell: setup ## A shell with the virtual environment active: innograph is on the PATH (exit leaves)
	@echo "innograph is on the PATH here (try: innograph --help); exit leaves this shell"
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" $${SHELL:-/bin/sh} -i

lint: setup ## ruff, the type checker (mypy --strict on src/) and the import contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q tests/test_layering.py

test: lint ## Set up, lint and pass the tests (what CI runs), then the HTTP suite over store servers
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-backends

test-backends: setup ## The HTTP suite twice more: answered by two Oxigraph, then two Virtuoso slots
	INNOGRAPH_TEST_BACKEND=oxigraph $(BIN)/pytest -q $(BACKEND_SUITE)
	INNOGRAPH_TEST_BACKEND=virtuoso $(BIN)/pytest -q $(BACKEND_SUITE)

test-fast: setup ## The quick loop: every test but the browser, Node, live-server, shape-fixture and clone groups
	$(BIN)/pytest -q -m "not (browser or node or server or shapes or clone or fuzz)"

fuzz: setup ## The fuzzers with ten times CI's inputs: hypothesis over HTTP, atheris on the parser
	INNOGRAPH_FUZZ_SCALE=10 INNOGRAPH_FUZZ_RUNS=150000 INNOGRAPH_FUZZ_SECONDS=1800 \
	  $(BIN)/pytest -q -m fuzz

# PIP_CONFIG_FILE: the lock names PyPI's files and hashes, whatever this machine's pip reads.
lock: setup ## Pin the server's dependencies with hashes (requirements/server.lock) from pyproject.toml
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --upgrade --generate-hashes --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file requirements/server.lock pyproject.toml

audit: setup ## Check the locked dependencies against known advisories (pip-audit, or the version floors)
	$(BIN)/python .ci/audit.py requirements/server.lock

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
