# The two README commands: `make run` (the whole main job on embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HISTORY ?= data/synthetic/history
CLAIMS ?= 50000
SEED ?= 7
export MLFLOW_TRACKING_URI ?= sqlite:///$(CURDIR)/mlruns/mlflow.db

.PHONY: install system-deps run test test-fast lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

run: install
	$(VENV)/bin/claimrisk synth --claims $(CLAIMS) --seed $(SEED) --out $(HISTORY)
	$(VENV)/bin/claimrisk train --claims $(HISTORY)/claims.jsonl --remits $(HISTORY)/remits.jsonl \
		--truth $(HISTORY)/truth.jsonl --promote
	$(VENV)/bin/claimrisk queue import --input $(HISTORY)/claims.jsonl
	@echo "Worklist filled. Create the first admin with: $(VENV)/bin/claimrisk users add admin --role admin --password-stdin ; then sign in at http://127.0.0.1:8000/app/"
	$(VENV)/bin/claimrisk serve --host 127.0.0.1 --port 8000

# The system packages the suite runs against for real: a PostgreSQL server for the worklist store's tests,
# and Chromium for the web application's browser tests.
# Installed through apt-get when missing (as root, or with sudo); nothing is downloaded at run time.
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql (the worklist store's tests start a throwaway server)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v wrk >/dev/null 2>&1; then \
		echo "installing wrk (benchmarks.bench_serving loads the server with it; a Python load generator takes CPU from the server)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing chromium (the web application's browser tests drive it headless; never playwright install)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# The whole suite: fast tests, slow end-to-end runs and benchmark smoke runs (CI=true keeps them small).
test: install system-deps
	$(PY) -m pytest -m "" -p no:cacheprovider

test-fast: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

bench: install
	$(PY) -m benchmarks.run

clean:
	rm -rf mlruns $(HISTORY) bench-out
