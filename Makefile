# One command to run the demo, one to run the tests; each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest bench clean

# setup.py compiles the basket kernels at install: a changed kernel reinstalls.
# The vision extra (PyTorch, pinned) trains the image models and runs their tests;
# everything else works without it.
KERNELS := $(addprefix src/shopkeeper/basket/,_mine.py _splits.py _aot.py)
$(STAMP): pyproject.toml setup.py $(KERNELS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,vision]'
	$(BIN)/python -m pip install --quiet --no-deps obp==0.4.1
	touch $(STAMP)

install: $(STAMP)

## demo: build the demo shop, load it through ingest and print its summary
demo: $(STAMP)
	$(BIN)/shopkeeper demo

## test: lint, type-check and run every test (PostgreSQL ones need SHOPKEEPER_TEST_DATABASE_URL)
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

## bench: the ingest benchmark (writes bench/results/ingest.md)
bench: $(STAMP)
	$(BIN)/python bench/ingest_bench.py

clean:
	rm -rf $(VENV) shopkeeper-workspace .pytest_cache .mypy_cache .ruff_cache
