# Earshot: `make run` (set up, migrate, load the demo, serve) and `make test` (set up, lint, test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup system-deps lint migrate demo serve worker unit integration browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	@sh scripts/system-deps.sh

setup: system-deps $(STAMP)

migrate: setup
	$(BIN)/earshot migrate

demo: migrate
	$(BIN)/earshot demo load

run: demo
	@echo ""
	@echo "Earshot is starting on http://$(HOST):$(PORT)"
	@echo "Demo accounts (password: earshot-demo): admin, eva (evaluator), colin (coach), ada (agent), exec (executive)"
	@echo ""
	@$(BIN)/earshot worker & WORKER=$$!; \
	trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	$(BIN)/earshot serve --host $(HOST) --port $(PORT)

serve: setup
	$(BIN)/earshot serve --host $(HOST) --port $(PORT)

worker: setup
	$(BIN)/earshot worker

lint: setup
	$(BIN)/ruff check app tests $(wildcard bench demo)
	$(BIN)/mypy app
	$(BIN)/lint-imports --no-cache

test: setup lint
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

integration: setup
	$(BIN)/pytest tests/integration

browser: setup
	$(BIN)/pytest tests/browser

bench: setup
	$(BIN)/python bench/search.py --sizes 10000
	$(BIN)/python bench/speech.py
	$(BIN)/python bench/pii.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/formtest.py
	$(BIN)/python bench/load.py --backend both --seconds 60 --rate 20 --out -

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
