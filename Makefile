# The README's two commands: `make preview` and `make test`. Both create venv/ on first use.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: preview test lint typecheck unit bench docs clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

preview: $(STAMP)
	$(VENV)/bin/reskflow-dr preview prod dr

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Both cores (pytest-xdist); each worker builds each distinct plan once (tests/conftest.py).
unit: $(STAMP)
	$(PY) -m pytest -q -n 2

test: lint typecheck unit

# One run of every figure in docs/benchmarks.md (several minutes: 8,000 buckets is the longest).
bench: $(STAMP)
	$(PY) benchmarks/bench.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

docs: $(STAMP)
	$(VENV)/bin/reskflow-dr config-reference --update README.md
	$(PY) -m infra.settings
	$(VENV)/bin/reskflow-dr graph all --quiet --update docs/topology.md
	$(VENV)/bin/reskflow-dr graph all --quiet --update README.md
