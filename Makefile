# rapport: the two commands of the README, and the steps they are made of.
# `make demo` -> environment, demo data, warehouse, checks, dashboard on http://localhost:8501
# `make test` -> environment (with the test and spark extras, Debian's chromium and Java 17),
#                then the whole test suite (the Spark cross-engine test must run, not skip)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SPARK_STAMP := $(VENV)/.installed-spark-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: demo test install install-spark data build serve chromium java bench lint docs clean

demo: install data build serve

# RAPPORT_REQUIRE_SPARK=1: tests/test_spark_engine.py fails instead of skipping when Spark
# cannot run, so a passing `make test` (CI) always includes the cross-engine test.
test: install-spark chromium java
	RAPPORT_REQUIRE_SPARK=1 $(BIN)/python -m pytest -n 2 --dist loadgroup tests

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The spark extra (dbt-spark, pyspark ~480 MB) in the same venv: `make test` needs it, `make demo`
# does not. great-expectations is imported with pyspark hidden (rapport/pipeline/checks/gx_import.py).
install-spark: $(SPARK_STAMP)

# pyspark is published as source only: uv builds it (~1 GB) and keeps every build in its cache,
# a new one on each fresh install (the index is revalidated). `uv cache prune` drops the builds
# nothing points to any more and keeps the last: 45 installs in one day had left 41 GB there.
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e '.[dev,spark]'
	@$(BIN)/python -m uv cache prune --quiet
	@touch $@

# Debian's chromium for the browser tests (never `playwright install`: it downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Java 17 for Spark (pyspark starts a JVM); Debian's headless JRE when there is no java.
java:
	@command -v java >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO mkdir -p /usr/share/man/man1; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

data:
	@if [ -f data/raw/interactions.csv ] || [ -f data/raw/interactions.parquet ]; then \
	  echo "data/raw already holds data (delete it or run 'rapport generate' to regenerate)"; \
	else $(BIN)/rapport generate --scale demo --seed 42 --out data/raw; fi

build:
	$(BIN)/rapport build

serve:
	$(BIN)/rapport serve --local --port 8501

# The benchmark is a tool of the checkout (tools/bench.py), not a command of the package.
bench: install
	$(BIN)/python -m tools.bench

lint: install
	$(BIN)/ruff check rapport dashboard expectations tests tools

# The dbt docs site (models, tests, seeds, and the dashboard's pages as exposures) for the
# served warehouse: built from a copy, so the served file is never opened for writing.
DOCS_DIR := $(if $(RAPPORT_DATA_DIR),$(RAPPORT_DATA_DIR),data)/dbt-docs
docs: install
	@test -f $(if $(RAPPORT_DATA_DIR),$(RAPPORT_DATA_DIR),data)/warehouse/rapport.duckdb || { echo "no served warehouse: run make build first"; exit 2; }
	rm -rf $(DOCS_DIR) && mkdir -p $(DOCS_DIR)
	cp $(if $(RAPPORT_DATA_DIR),$(RAPPORT_DATA_DIR),data)/warehouse/rapport.duckdb $(DOCS_DIR)/catalog.duckdb
	cd transforms && RAPPORT_DBT_DB_PATH=$(abspath $(DOCS_DIR))/catalog.duckdb \
		DBT_TARGET_PATH=$(abspath $(DOCS_DIR))/site DBT_LOG_PATH=$(abspath $(DOCS_DIR))/logs \
		DBT_SEND_ANONYMOUS_USAGE_STATS=False $(abspath $(BIN))/dbt docs generate --profiles-dir . --static
	@echo "dbt docs: open $(DOCS_DIR)/site/static_index.html"

clean:
	rm -rf data/raw/*.csv data/raw/*.parquet data/warehouse/* transforms/target transforms/logs
