# One command to run the demo, one to run the tests; each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest bench clean fashion-data

# setup.py compiles the basket kernels at install: a changed kernel reinstalls.
# The vision extra (PyTorch, pinned) trains the image models and runs their tests;
# everything else works without it.
KERNELS := $(addprefix src/shopkeeper/basket/,_mine.py _splits.py _aot.py)
$(STAMP): pyproject.toml setup.py $(KERNELS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,vision]'
	$(BIN)/python -m pip install --quiet --no-deps obp==0.4.1
	@$(MAKE) --no-print-directory fashion-data
	touch $(STAMP)

# The demo shop's product photos and the image tests read Debian's Fashion-MNIST:
# installed here when missing and apt-get can (as root); otherwise a note says how.
FASHION := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
fashion-data:
	@if [ -z "$$SHOPKEEPER_FASHION_MNIST" ] && [ ! -e $(FASHION) ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	            apt-get install -y -q dataset-fashion-mnist) >/dev/null \
	        || echo "note: apt-get could not install dataset-fashion-mnist"; \
	    else \
	        echo "note: the demo's product photos need Debian's dataset-fashion-mnist" \
	             "(apt-get install dataset-fashion-mnist, or SHOPKEEPER_FASHION_MNIST=DIR)"; \
	    fi; \
	fi

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
