# LEAD Outcomes: `make run` for the dashboard on demo data, `make test` for every test.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3.11
PORT ?= 8501
HOME_DIR ?= $(or $(OUTCOMES_HOME),data)
# uv from the PATH, else bootstrapped into .tools/ (a venv of its own: no system pip touched).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
OUT := $(VENV)/bin/outcomes
export UV_PYTHON_DOWNLOADS := never
# Compiled once at setup: a run, a test or the dashboard's first page never pays for compiling
# the libraries (where PYTHONDONTWRITEBYTECODE is set, Python would compile them on every start).
export UV_COMPILE_BYTECODE := 1
export OUTCOMES_HOME := $(HOME_DIR)

.PHONY: help setup browser run demo nightly serve test bench lint clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-9s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

setup: $(UV) ## Create .venv with everything installed (the `outcomes` command included)
	$(UV) sync --frozen --python $(PYTHON)

browser: ## Install Debian's Chromium for the browser tests (if missing)
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@/usr/bin/chromium --version

# The demo's exports, just written and complete, are taken at once (--settle 0); files that were
# already in the inbox wait out the settle time, as in any nightly.
run: setup ## Set up, write demo data if the home is empty, run the nightly, start the dashboard
	@settle=; if [ -z "$$(ls -A $(HOME_DIR)/inbox $(HOME_DIR)/archive 2>/dev/null)" ]; then \
	  $(OUT) demo || exit 1; settle="--settle 0"; fi; \
	echo "$(OUT) nightly $$settle"; $(OUT) nightly $$settle; test $$? -le 1
	$(OUT) serve --demo --port $(PORT)

demo: setup ## Write synthetic demo exports into the inbox
	$(OUT) demo

nightly: setup ## Ingest, validate, rebuild and publish a release
	$(OUT) nightly

serve: setup ## Start the demo dashboard (role picker) on 127.0.0.1 (PORT); real sign-in: `outcomes serve`
	$(OUT) serve --demo --port $(PORT)

test: setup browser ## Run every test (browser tests in Chromium included)
	$(VENV)/bin/pytest -q

bench: setup ## National-scale benchmark: nightly stages against DuckDB's own CSV load
	$(VENV)/bin/python -m pipelines.bench

lint: setup ## Lint and check formatting
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean: ## Remove the virtual environments and caches (keeps data/)
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache
