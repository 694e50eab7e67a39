# landcarbon — two commands do everything:
#   make report   create .venv (once), install, run every analysis, build the book
#   make test     same set-up, then the whole test suite (unit, nbval re-execution, report build, browser)
# Options: make report PROFILE=quick ; make test PYTEST_ARGS="-k budget"
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= full
PYTEST_ARGS ?=
export PATH := $(CURDIR)/$(BIN):$(PATH)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: report test setup book clean help

help:
	@echo "make report [PROFILE=full|quick]  - run all analyses (published: full) and build book/_build/html/index.html"
	@echo "make test                         - run the whole test suite"
	@echo "make clean                        - remove results, executed notebooks and the built book"

# Idempotent set-up: reinstalls only when pyproject.toml changed (or .venv is missing).
$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,book]"
	@touch $@

setup: $(BIN)/.installed

report: $(BIN)/.installed
	$(BIN)/landcarbon report --profile $(PROFILE)
	@test -f book/_build/html/index.html || { echo "ERROR: book/_build/html/index.html was not built" >&2; exit 1; }
	@echo "Report: $(CURDIR)/book/_build/html/index.html"

test: $(BIN)/.installed
	$(BIN)/landcarbon report --profile quick
	$(BIN)/python -m pytest tests book/analyses --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf results book/_build book/analyses book/generated book/_static_generated .landcarbon
