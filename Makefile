# Two commands: `make run` and `make test`. Each bootstraps .venv from a bare python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench setup browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/maillage db migrate
	$(BIN)/maillage demo --if-empty
	$(BIN)/maillage serve --host $(HOST) --port $(PORT)

browser:
	./scripts/install-test-deps

lint: $(STAMP)
	$(BIN)/ruff check hub network referrals tests bench
	$(BIN)/ruff format --check hub network referrals tests bench
	$(BIN)/mypy hub network referrals

test: $(STAMP) browser lint
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
