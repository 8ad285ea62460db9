# Two commands on a fresh machine: `make demo` and `make test` create .venv and install what they need.
# `make demo` installs the runtime dependencies only; the other targets install the dev extras.
# A stamp named after pyproject.toml's hash reinstalls whenever pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml | sha256sum | cut -c1-12)
DEV_STAMP := $(VENV)/.installed-dev-$(HASH)
DEMO_STAMP := $(VENV)/.installed-demo-$(HASH)
# the dev install has everything the demo needs: no second install after `make test`
DEMO_NEEDS := $(if $(wildcard $(DEV_STAMP)),$(DEV_STAMP),$(DEMO_STAMP))
# the suite without the tests marked slow, postgres or realdata, and without coverage
FAST_MARKERS := not slow and not postgres and not realdata

.PHONY: demo test test-fast lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-dev-*
	touch $@

$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-demo-*
	touch $@

demo: $(DEMO_NEEDS)
	$(BIN)/python -m openpcf.demo

# coverage's data file goes into the (ignored) virtualenv, not the work tree
test: $(DEV_STAMP)
	COVERAGE_FILE=$(VENV)/.coverage $(BIN)/python -m pytest -q --cov=openpcf --cov-branch --cov-report=term

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m '$(FAST_MARKERS)'

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
