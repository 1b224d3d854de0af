# camfind: `make demo` runs the main job on the built-in sample; `make test` runs the tests.
# Both share one virtual environment (.venv), created on first use. The demo needs only the core
# install; the tests add the dev tools, the PostgreSQL driver and the torch-based backends (yolo,
# easyocr; ~6.7 GB), so a first `make demo` never waits for torch. Each stamp is redone when pyproject.toml changes.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q
CORE := $(VENV)/.installed-core
FULL := $(VENV)/.installed-full

.PHONY: demo test lint check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(CORE): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $(CORE)

$(FULL): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev,ray,yolo,easyocr,postgresql]'
	touch $(CORE) $(FULL)

demo: $(CORE)
	$(BIN)/camfind demo --workdir demo-case --force

test: $(FULL) lint
	$(BIN)/python -m pytest -q

lint: $(FULL)
	$(BIN)/ruff check .
	$(BIN)/mypy camfind

bench: $(FULL)
	$(BIN)/python benchmarks/register.py
	$(BIN)/python benchmarks/recognition.py
	$(BIN)/python benchmarks/analyze_speed.py
	$(BIN)/python benchmarks/query_speed.py

clean:
	rm -rf $(VENV) demo-case .pytest_cache .mypy_cache .ruff_cache
