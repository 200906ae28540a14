"""`rapport build --engine duckdb|spark`: the choice, and the error when Spark cannot run.

These run without Spark (no pyspark import, no JVM): tests/test_spark_engine.py builds on
Spark for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rapport.cli import build_parser
from rapport.pipeline import build, spark

FIXTURES = Path(__file__).parent / "fixtures" / "tiny"


def test_the_engine_defaults_to_duckdb_and_accepts_spark():
    parser = build_parser()
    assert parser.parse_args(["build"]).engine == "duckdb"
    assert parser.parse_args(["build", "--engine", "spark"]).engine == "spark"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["build", "--engine", "postgres"])
    assert exited.value.code == 2


def test_a_missing_spark_extra_stops_the_build_before_it_starts(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RAPPORT_WAREHOUSE", raising=False)
    monkeypatch.setattr(spark, "unavailable", lambda: (
        "pyspark, dbt-spark[session] not installed: install the spark extra "
        "(pip install 'rapport[spark]')"))
    code = build.run_build(raw=FIXTURES, engine="spark")
    err = capsys.readouterr().err
    assert code == build.EXIT_ENGINE_UNAVAILABLE == 3
    assert "rapport build --engine spark: Spark cannot run here" in err
    assert "pip install 'rapport[spark]'" in err
    assert "served warehouse is unchanged" in err
    assert not (tmp_path / "data").exists(), "nothing may be built or locked"


def test_a_missing_java_stops_rapport_build_engine_spark_with_what_to_install(tmp_path):
    # The real command line and the real availability check, with no Java to be found.
    env = {**os.environ, "RAPPORT_DATA_DIR": str(tmp_path / "data"),
           "JAVA_HOME": str(tmp_path / "no-java-here")}
    env.pop("RAPPORT_WAREHOUSE", None)
    done = subprocess.run(
        [sys.executable, "-m", "rapport.cli", "build", "--engine", "spark", "--raw",
         str(FIXTURES)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Spark cannot run here" in done.stderr
    if "not installed" in done.stderr:  # a venv without the spark extra
        assert "pip install 'rapport[spark]'" in done.stderr
    else:
        assert "no Java found" in done.stderr
        assert "openjdk-17-jre-headless" in done.stderr
    assert not (tmp_path / "data").exists()
