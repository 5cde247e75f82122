# Two commands a newcomer needs: `make demo` and `make test`. Both install everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: setup system elasticsearch demo test lint typecheck model bench clean

setup: $(STAMP) system

# The pinned CPU torch goes first: an unpinned torch would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Debian chromium (Playwright cannot download a browser here), CJK fonts so screenshots show Chinese, a colour
# emoji font so they show the emoji agencies write with (💯, 🐧 for QQ) instead of empty boxes, the PostgreSQL
# server the casebook's PostgreSQL tests start a throw-away cluster from, and the Redis server the shared (fleet)
# mode and its tests run on.
APT_PACKAGES := chromium fonts-noto-cjk fonts-noto-color-emoji postgresql redis-server
system:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk" || ! fc-list 2>/dev/null | grep -qi "color emoji" || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

# The real Elasticsearch 8.12.2, cached outside the repo (see scripts/elasticsearch.sh).
elasticsearch:
	bash scripts/elasticsearch.sh fetch

demo: setup
	$(BIN)/qingyuan demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy core classifiers indexer casebook alerts crawlers webui demo fleet wiring

test: setup elasticsearch
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

# Retrain the shipped default model reproducibly (seeded); long: run it in the background and watch the log.
# Two recipes (classifiers/train/recipes/): stage1.toml, a 15,000-step masked-LM pretraining and a first fine-tune
# (about 80 minutes on a 2-core CPU with AVX-512 VNNI and bf16, several hours on AVX2 only), then shipped.toml, a
# second fine-tune of that encoder with fresh heads, everyday replies and cue tags (classifiers/train/EXPERIMENTS.md).
model: setup
	$(BIN)/python -m classifiers.train classifiers/train/recipes/stage1.toml
	$(BIN)/python -m classifiers.train classifiers/train/recipes/stage2.toml
	$(BIN)/python -m classifiers.train classifiers/train/recipes/shipped.toml

bench: setup elasticsearch
	$(BIN)/python bench/bench_classify.py
	$(BIN)/python bench/bench_index.py
	$(BIN)/python bench/bench_spool.py
	$(BIN)/python bench/bench_hostile.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
