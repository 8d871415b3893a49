# Two commands: `make run` and `make test`. Each bootstraps .venv from a bare python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench setup browser documents clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: export MAILLAGE_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) documents
	$(BIN)/maillage db migrate
	$(BIN)/maillage demo --if-empty
	$(BIN)/maillage serve --host $(HOST) --port $(PORT)

browser:
	./scripts/install-test-deps

# LibreOffice (DOCX -> PDF), python3-uno, poppler-utils and FALC fonts, when missing.
documents:
	./scripts/install-libreoffice

lint: $(STAMP)
	$(BIN)/ruff check hub network referrals tests bench
	$(BIN)/ruff format --check hub network referrals tests bench
	$(BIN)/mypy hub network referrals
	$(BIN)/lint-imports

# Two pytest-xdist workers on these 2-core machines (TEST_WORKERS=0: one process), tests handed out one by
# one. Each worker has its own template databases, clones, var dirs, SMTP server and live servers.
TEST_WORKERS ?= 2
test: $(STAMP) browser documents lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist load $(PYTEST_ARGS)

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& echo "Installation de wrk (générateur de charge)" && DEBIAN_FRONTEND=noninteractive apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; } \
		|| echo "wrk introuvable : api_get se rabat sur httpx (apt-get install -y wrk)"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
