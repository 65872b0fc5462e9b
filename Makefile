# The front door. `make test` and `make demo` work from a fresh clone: they build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLANS ?= plans/

.PHONY: install test lint unit demo validate compile quote plan apply bench emulator clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check compiler tests scripts
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint unit

validate: $(STAMP)
	$(BIN)/pricebook validate $(PLANS)

compile: $(STAMP)
	$(BIN)/pricebook compile $(PLANS) --format curl

quote: $(STAMP)
	$(BIN)/pricebook quote $(PLANS) --price standard-cost-per-5-users --quantity 1 --quantity 3 --quantity 5 --quantity 6 --quantity 7

plan: $(STAMP)
	$(BIN)/pricebook plan $(PLANS)

apply: $(STAMP)
	$(BIN)/pricebook apply --auto-approve $(PLANS)

demo: $(STAMP)
	$(BIN)/python -m scripts.demo

bench: $(STAMP)
	$(BIN)/python -m tests.bench

emulator: $(STAMP)
	$(BIN)/pricebook emulator

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
