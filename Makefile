# rapport: the two commands of the README, and the steps they are made of.
# `make demo` -> environment, demo data, warehouse, checks, dashboard on http://localhost:8501
# `make test` -> environment (with test extras and Debian's chromium), then the whole test suite

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: demo test install data build serve chromium bench lint clean

demo: install data build serve

test: install chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Debian's chromium for the browser tests (never `playwright install`: it downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

data:
	@if [ -f data/raw/interactions.csv ] || [ -f data/raw/interactions.parquet ]; then \
	  echo "data/raw already holds data (delete it or run 'rapport generate' to regenerate)"; \
	else $(BIN)/rapport generate --scale demo --seed 42 --out data/raw; fi

build:
	$(BIN)/rapport build

serve:
	$(BIN)/rapport serve --port 8501

bench: install
	$(BIN)/rapport bench

lint: install
	$(BIN)/ruff check rapport dashboard tests

clean:
	rm -rf data/raw/*.csv data/raw/*.parquet data/warehouse/* transforms/target transforms/logs
