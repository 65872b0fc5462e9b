# The front door. `make test` and `make demo` work from a fresh clone: they build .venv themselves, from the lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
#: exact versions and hashes of everything `make install` puts into .venv (runtime and dev tools), made for
#: Python 3.11 by `make lock`
LOCK := requirements.lock
LATEST := .venv-latest
LOWEST := .venv-lowest
SCHEMAS := schemas/catalog.schema.json schemas/changeset.schema.json

# What the catalog targets (validate, compile, quote, plan, apply) work on, for CI: `make plan PLANS=catalog/
# FORMAT=markdown`. Each is empty unless set (but PLANS, FORMAT, and PRICE and QUANTITY for the example catalog);
# the README's "Make targets" says what each becomes.
#   PLANS      the catalog directory or files
#   VARS       a YAML/JSON file of template variables (--vars)
#   VAR        template variables, NAME=VALUE separated by spaces (--var, each)
#   ENV        an environment of pricebook.toml (--env): its key, mode and template variables; taken from make's
#              command line only (`make plan ENV=live`): POSIX shells use an ENV variable for a startup file
#   LIVE       1, true or yes: allow a live-mode key (--live)
#   FORMAT     plan: text, markdown (the PR comment) or json
#   PLAN_FILE  plan: also save the plan there (--out); apply: apply that saved, reviewed plan (--plan)
#   PLAN_HASH  apply: refuse any plan but the approved one, whose hash this is (--expect-plan-hash)
#   PRICE      quote: the price lookup_key or plan id to quote (--price); the example catalog's legacy plan when
#              PLANS is the example catalog, else required
#   QUANTITY   quote: the quantities, separated by spaces (--quantity, each)
#   ARGS       anything more for the command (--max-bytes 1048576, --show-plan, --rate 50, --currency eur, ...)
PLANS ?= plans/
VARS ?=
VAR ?=
LIVE ?=
FORMAT ?= text
PLAN_FILE ?=
PLAN_HASH ?=
PRICE ?= $(if $(filter plans plans/ ./plans ./plans/,$(PLANS)),standard-cost-per-5-users)
QUANTITY ?= 1 3 5 6 7
ARGS ?=
CATALOG_FLAGS = $(if $(VARS),--vars $(VARS)) $(foreach v,$(VAR),--var $(v))
ENV_FLAG = $(if $(filter command line,$(origin ENV)),$(if $(ENV),--env $(ENV)))
CONNECTION_FLAGS = $(ENV_FLAG) $(if $(filter 1 true yes,$(LIVE)),--live)

.PHONY: install lock test test-latest test-lowest lint schemas actionlint unit wheel demo validate compile quote plan apply bench emulator clean

# A new lock or pyproject builds the venv anew, so that it holds exactly what the lock says. The project itself
# goes in without build isolation: its build backend (setuptools) is in the lock too.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The newest version of everything pyproject.toml allows, for Python 3.11 on any platform; review the diff.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes \
		--upgrade --custom-compile-command 'make lock' --output-file $(LOCK)

lint: $(STAMP)
	$(BIN)/ruff check compiler tests scripts
	$(BIN)/mypy

# both schemas against their metaschema, `format: regex` patterns checked as the ECMA-262 regexes they are; the
# action's metadata against the schema of GitHub Actions' action files
schemas: $(STAMP)
	$(BIN)/check-jsonschema --check-metaschema --regex-variant default $(SCHEMAS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml

# action.yml and the example workflows of docs/github-actions.md, with actionlint and shellcheck
actionlint: $(STAMP)
	$(BIN)/python -m scripts.lint_actions

unit: $(STAMP)
	$(BIN)/pytest

test: lint schemas actionlint unit

# The same checks with the newest release of everything instead of the lock, in a venv of its own: a break
# that a new release of a dependency or a tool brings shows up here on purpose, not in a fresh clone by accident.
test-latest:
	$(PYTHON) -m venv --clear $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	touch $(LATEST)/.installed
	$(LATEST)/bin/python -m pip freeze --exclude-editable
	$(MAKE) VENV=$(LATEST) test

# dist/pricebook-VERSION-py3-none-any.whl, for `pip install` into any venv (build/ first emptied: setuptools
# would ship a module deleted since the last build)
wheel: $(STAMP)
	rm -rf build dist
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

# The test suite with the oldest release of each runtime dependency that pyproject.toml allows (its lower bounds
# are a promise to everyone who installs pricebook beside other packages) and the locked pytest and hypothesis.
test-lowest: $(STAMP)
	$(PYTHON) -m venv --clear $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e . \
		$$(grep -E '^(pytest|hypothesis|setuptools)==' $(LOCK) | cut -d' ' -f1)
	$(BIN)/uv pip freeze --python $(LOWEST)/bin/python --exclude-editable
	$(LOWEST)/bin/python -m pytest

validate: $(STAMP)
	$(BIN)/pricebook validate $(PLANS) $(CATALOG_FLAGS) $(ENV_FLAG) $(ARGS)

compile: $(STAMP)
	$(BIN)/pricebook compile $(PLANS) --format curl $(CATALOG_FLAGS) $(ENV_FLAG) $(ARGS)

quote: $(STAMP)
	$(if $(PRICE),,$(error make quote: name the price or plan to quote in $(PLANS): make quote PLANS=$(PLANS) PRICE=KEY QUANTITY="1 5 10"))
	$(BIN)/pricebook quote $(PLANS) $(CATALOG_FLAGS) $(ENV_FLAG) --price $(PRICE) $(foreach q,$(QUANTITY),--quantity $(q)) $(ARGS)

# The command line goes to stderr (`set -x`), so stdout is the plan alone: `make -s plan FORMAT=markdown > x.md`.
plan: $(STAMP)
	@set -x; $(BIN)/pricebook plan $(PLANS) --format $(FORMAT) $(if $(PLAN_FILE),--out $(PLAN_FILE)) \
		$(CATALOG_FLAGS) $(CONNECTION_FLAGS) $(ARGS)

# A saved plan (PLAN_FILE) is applied as it was reviewed, with no confirmation; otherwise the catalog is planned
# afresh and applied with --auto-approve (CI has no one to ask), and PLAN_HASH pins it to the approved plan.
apply: $(STAMP)
	@set -x; $(BIN)/pricebook apply $(if $(PLAN_FILE),--plan $(PLAN_FILE),--auto-approve $(PLANS) $(CATALOG_FLAGS)) \
		$(if $(PLAN_HASH),--expect-plan-hash $(PLAN_HASH)) $(CONNECTION_FLAGS) $(ARGS)

demo: $(STAMP)
	$(BIN)/python -m scripts.demo

bench: $(STAMP)
	$(BIN)/python -m tests.bench

emulator: $(STAMP)
	$(BIN)/pricebook emulator

clean:
	rm -rf $(VENV) $(LATEST) $(LOWEST) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache
