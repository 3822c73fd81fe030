# innograph: `make help` lists the targets. `make test` is exactly what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help setup run test test-fast lint format
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed ## Create the virtual environment and install innograph with its test tools

run: setup ## The main job: parse the shipped profiles, build the store, query it, serve it
	$(BIN)/innograph parse --json data/profiles/*.txt
	$(BIN)/innograph build --store store
	$(BIN)/innograph query queries/innovation-lead-and-team-placement.rq --store store
	$(BIN)/innograph serve --store store --host 127.0.0.1 --port 8000

lint: setup ## ruff, the type checker (mypy --strict on src/) and the import contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q tests/test_layering.py

test: lint ## Set up, lint and pass the tests (what CI runs)
	$(BIN)/pytest

test-fast: setup ## The quick loop: every test but the browser, Node, live-server and shape-fixture groups
	$(BIN)/pytest -q -m "not (browser or node or server or shapes)"

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
