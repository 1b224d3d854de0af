# camfind: `make demo` runs the main job on the built-in sample; `make test` runs the tests.
# Each creates the virtual environment (.venv) on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev,ray,yolo,easyocr]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/camfind demo --workdir demo-case --force

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy camfind

bench: $(STAMP)
	$(BIN)/python benchmarks/register.py
	$(BIN)/python benchmarks/recognition.py
	$(BIN)/python benchmarks/analyze_speed.py
	$(BIN)/python benchmarks/query_speed.py

clean:
	rm -rf $(VENV) demo-case .pytest_cache .mypy_cache .ruff_cache
