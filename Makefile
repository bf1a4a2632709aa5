# negotiation_sim — the two commands: `make demo` and `make test`.
# Each creates .venv with a Python >= 3.12 if it is missing and installs what it needs.

SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
PIP   := $(PY) -m pip

# PYTHON may be set by the user (make demo PYTHON=/path/to/python3.12). Otherwise probe, in order:
# python3.13, python3.12, python3, python, then every pyenv-installed CPython >= 3.12 (newest first).
# A candidate counts only if it actually runs and reports version >= 3.12 (pyenv shims of
# inactive versions fail to run, so they are skipped).
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
CANDIDATES := python3.14 python3.13 python3.12 python3 python \
              $(shell ls -d $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV)
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for c in $(CANDIDATES); do \
             if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
               command -v "$$c" 2>/dev/null || echo "$$c"; break; fi; done)
endif

SCENARIO ?= scenarios/summit_baseline.yaml
DEMO_OUT ?= results/demo

.PHONY: help demo test bench lint clean venv install install-test

help:
	@echo "make demo   - create .venv, install, run the baseline scenario, write table + plot to $(DEMO_OUT)"
	@echo "make test   - create .venv, install with test extras, run the whole test suite"
	@echo "make bench  - run the benchmark suite (writes benchmarks/results.json)"
	@echo "make clean  - remove .venv and generated results"

$(PY):
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python >= 3.12 found (tried: python3.13 python3.12 python3 python and pyenv versions)." >&2; \
	  echo "       Install Python 3.12 or newer (e.g. 'pyenv install 3.12' or your OS package), or run" >&2; \
	  echo "       'make demo PYTHON=/path/to/python3.12'." >&2; exit 1; fi
	@echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)

# every command of the README and docs/tutorial.md runs after make demo: the shipped experiments'
# sobol design (sensitivity), scenario discovery (discover) and the explorer (explore); the dask
# cluster and Excel export stay optional extras
$(VENV)/.installed: pyproject.toml Makefile | $(PY)
	$(PIP) install --quiet -e ".[sensitivity,discover,explore]"
	@touch $@

$(VENV)/.installed-test: pyproject.toml Makefile | $(PY)
	$(PIP) install --quiet -e ".[test]"
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/negsim run $(SCENARIO) --out $(DEMO_OUT) --overwrite
	@echo "table: $(DEMO_OUT)/summary.json   plot: $(DEMO_OUT)/outcomes.png"
	@echo "negsim is installed in $(VENV): run 'source $(VENV)/bin/activate' to use it (or call $(VENV)/bin/negsim)"

# PYTEST_ARGS: e.g. make test PYTEST_ARGS='-n 0 -x' to run in one process and stop at a failure
PYTEST_ARGS ?= -n auto

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-test
	$(PY) benchmarks/run.py --readme benchmarks/README.md

lint: install-test
	$(PY) -m pip install --quiet ruff && $(VENV)/bin/ruff check negotiation_sim tests benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache
