# landcarbon — two commands do everything:
#   make report   create .venv (once), install the locked environment, run every analysis, build the book
#   make test     same set-up, then the whole test suite (unit, nbval re-execution, report build, browser)
# Options: make report PROFILE=quick ; make test PYTEST_ARGS="-k budget"
# Environment:
#   requirements-lock.txt  exact versions + sha256 of every package (Linux x86_64, Python 3.11), installed
#                          with `pip install --require-hashes`; then the package itself with --no-deps.
#   make lock              re-resolve the lock after a change of pyproject.toml (keeps existing pins;
#                          make lock-upgrade moves everything to the latest releases)
#   make test-latest       the same tests in .venv-latest with the latest releases (unpinned): shows
#                          whether the next lock will still pass
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements-lock.txt
PROFILE ?= full
PYTEST_ARGS ?=
export PATH := $(CURDIR)/$(BIN):$(PATH)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# uv only resolves the lock; it lives in its own virtual environment, never in .venv
LOCK_TOOL := .venv-lock/bin/uv
LOCK_ARGS := pip compile pyproject.toml --extra test --extra book --generate-hashes --python-version 3.11 \
             --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" -o $(LOCK)

.PHONY: report test test-latest setup lock lock-upgrade lint clean help

help:
	@echo "make report [PROFILE=full|quick]  - run all analyses (published: full), build book/_build/html/index.html"
	@echo "make test                         - run the whole test suite in the locked environment"
	@echo "make test-latest                  - the same tests with the latest releases (.venv-latest, unpinned)"
	@echo "make lock                         - regenerate requirements-lock.txt after editing pyproject.toml"
	@echo "make lint                         - ruff check of the publishing modules"
	@echo "make clean                        - remove results, executed notebooks and the built book"

# Idempotent set-up: installs exactly the locked set (adds, changes, and with tools/sync_env.py removes
# packages), then the package itself; tests/test_packaging.py compares `pip freeze` with the lock, using
# the hash recorded below.
$(VENV)/.installed: $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  echo "warning: $(LOCK) was resolved for Python 3.11, $(PYTHON) is $$($(PYTHON) -V 2>&1)" >&2
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python tools/sync_env.py $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@sha256sum $(LOCK) | cut -d' ' -f1 > $(VENV)/.lock-sha256
	@touch $@

setup: $(VENV)/.installed

report: $(VENV)/.installed
	$(BIN)/landcarbon report --profile $(PROFILE)
	@test -f book/_build/html/index.html || { echo "ERROR: book/_build/html/index.html was not built" >&2; exit 1; }
	@echo "Report: $(CURDIR)/book/_build/html/index.html"

# $(call run_tests,VENV): the report in the quick profile, then every test and the notebooks' re-execution
define run_tests
	PATH="$(CURDIR)/$(1)/bin:$$PATH" $(1)/bin/landcarbon report --profile quick
	PATH="$(CURDIR)/$(1)/bin:$$PATH" $(1)/bin/python -m pytest tests book/analyses --nbval-lax \
	  --nbval-cell-timeout=600 -p no:cacheprovider $(PYTEST_ARGS)
endef

test: $(VENV)/.installed
	$(call run_tests,$(VENV))

# Unpinned: the newest releases allowed by pyproject.toml, in a separate environment.
.venv-latest/.installed: pyproject.toml
	@test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[test,book]"
	@touch $@

test-latest: .venv-latest/.installed
	.venv-latest/bin/python -m pip freeze --exclude-editable > .venv-latest/freeze.txt
	@echo "test-latest: versions under test in .venv-latest/freeze.txt"
	$(call run_tests,.venv-latest)
	@echo "test-latest: the latest releases pass; make lock-upgrade adopts them"

$(LOCK_TOOL):
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet uv

lock: $(LOCK_TOOL)
	$(LOCK_TOOL) $(LOCK_ARGS)

lock-upgrade: $(LOCK_TOOL)
	$(LOCK_TOOL) $(LOCK_ARGS) --upgrade

lint: $(VENV)/.installed
	$(BIN)/ruff check lib/landcarbon/publish tests/test_pipeline.py tests/test_pipeline_signals.py tests/test_cli.py \
	  tests/test_packaging.py tests/test_environment.py tests/test_cf_outputs.py

clean:
	rm -rf results book/_build book/analyses book/generated book/_static_generated .landcarbon
