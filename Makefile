# Every target goes through the `crm` CLI installed in .venv; `make setup` is idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CRM := $(BIN)/crm
SCALE ?= small
SEED ?= 42
DATA ?= data/$(SCALE)
DB ?= warehouse/crm.duckdb
PORT ?= 8501
export CRM_DB := $(abspath $(DB))

.PHONY: setup browser demo test lint format generate ingest build quality run dashboard docs bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Debian's Chromium for the real-browser dashboard test (test tools cannot download browsers here).
browser:
	@bash scripts/install-browser.sh

demo: setup
	$(CRM) generate --scale $(SCALE) --seed $(SEED) --out $(DATA)
	$(CRM) run $(DATA)
	$(CRM) dashboard --port $(PORT)

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

generate: setup
	$(CRM) generate --scale $(SCALE) --seed $(SEED) --out $(DATA)

ingest: setup
	$(CRM) ingest $(DATA)

build: setup
	$(CRM) build

quality: setup
	$(CRM) quality

run: setup
	$(CRM) run $(DATA)

dashboard: setup
	$(CRM) dashboard --port $(PORT)

docs: setup
	$(CRM) build --docs

bench: setup
	$(CRM) bench --scale $(SCALE)

clean:
	rm -rf warehouse/*.duckdb* reports dbt_project/target dbt_project/logs
