"""Builds, checks and rollbacks that cannot finish end with a clear message, never a traceback.

- a full disk during the checks: exit 2, "no space left on device while writing <file>; free
  space and run again", the record `error`, no temporary file, the previous build served;
- an incremental build whose appended lines end in a truncated one: exit 2 naming the file
  and the line, as the full build does;
- `rapport check` on a served file cut in half: exit 2 naming the file, saying it is damaged
  and what to do; `rapport rollback` then serves the kept copy again;
- an unexpected error (a bug): its message, and the traceback in a log file the message names.

A real full disk cannot be made here (no small file system to fill): RAPPORT_TEST_DISK_FULL_AT
makes one write fail as DuckDB fails on a full disk, and every new file rapport writes after
it fail with ENOSPC (rapport/pipeline/publish.py, disk_full_for_test); the rest of the build is real.
The builds stop before dbt, except none: each costs ingest, gate and the input checks at most.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from support.pipeline import build_id_from, copy_data_dir, run_cli, warehouse_state

from rapport.errors import disk_full
from rapport.pipeline.publish import sha256_file

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline-failures")]


def _record(data_dir: Path, build_id: str) -> dict:
    return json.loads((data_dir / "warehouse" / "builds" / f"{build_id}.json").read_text())


def _leftovers(data_dir: Path) -> list[str]:
    """Anything in the warehouse folder that is not the served file, the lock or a build's
    file, record or dbt folder (temporary files, logs)."""
    warehouse = data_dir / "warehouse"
    found = [p.name for p in warehouse.iterdir()
             if p.name not in ("rapport.duckdb", "build.lock", "builds")]
    found += [p.name for p in (warehouse / "builds").iterdir() if p.name.startswith(".")]
    return found


@pytest.fixture
def data_dir(tmp_path: Path, built_warehouse: Path) -> Path:
    return copy_data_dir(built_warehouse.parent.parent, tmp_path / "data")


# --------------------------------------------------------------------------- disk full


def test_disk_full_at_the_checks_exits_2_marks_the_build_failed_and_serves_the_last(
        data_dir: Path, demo_raw: Path):
    served = data_dir / "warehouse" / "rapport.duckdb"
    sha, state = sha256_file(served), warehouse_state(served)
    result = run_cli("build", "--raw", str(demo_raw), data_dir=data_dir,
                     RAPPORT_TEST_DISK_FULL_AT="input_checks")
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    build_id = build_id_from(result.stdout)
    build_file = data_dir / "warehouse" / "builds" / f"{build_id}.duckdb"
    message = result.stderr
    assert f"no space left on device while writing {build_file}; free space and run again" \
        in message
    assert f"not published: the served warehouse is still build {state['build_id']}" in message
    assert "Traceback" not in message
    record = _record(data_dir, build_id)
    assert record["status"] == "error"
    assert record["summary"] == (f"no space left on device while writing {build_file} after "
                                 f"input checks")
    assert not build_file.exists()               # the unfinished file's space is given back
    assert _leftovers(data_dir) == []            # no temporary record file, no log
    assert (data_dir / "warehouse" / "build.lock").read_text() == ""
    assert sha256_file(served) == sha and warehouse_state(served) == state


def test_disk_full_is_recognised_from_python_and_from_duckdb():
    assert disk_full(OSError(errno.ENOSPC, "No space left on device", "/x/y.json")) == \
        "/x/y.json"
    assert disk_full(duckdb.IOException(
        'IO Error: Could not write file "/w/b.duckdb": No space left on device')) == \
        "/w/b.duckdb"
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise RuntimeError("while writing the results") from inner
    except RuntimeError as outer:
        assert disk_full(outer) == ""
    assert disk_full(OSError(errno.EACCES, "Permission denied", "/x")) is None
    assert disk_full(ValueError("no space here")) is None


# --------------------------------------------------------------------------- truncated line


def test_an_incremental_build_with_a_truncated_appended_line_exits_2_like_a_full_build(
        data_dir: Path, demo_raw: Path, tmp_path: Path):
    """The served build read demo_raw; two lines are appended to interactions.csv, the second
    cut after its sixth field (no line break): the file was being written when copied."""
    raw = tmp_path / "raw"
    shutil.copytree(demo_raw, raw, ignore=shutil.ignore_patterns(".*"))
    path = raw / "interactions.csv"
    last = path.read_bytes().splitlines()[-1].decode().split(",")
    lines_before = path.read_bytes().count(b"\n")
    whole = ",".join(["INTNEW00001", *last[1:]])
    cut = ",".join(["INTNEW00002", *last[1:6]])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{whole}\n{cut}")
    served = data_dir / "warehouse" / "rapport.duckdb"
    sha = sha256_file(served)

    result = run_cli("build", "--raw", str(raw), "--incremental", data_dir=data_dir,
                     timeout=300)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    assert "incremental: done" in result.stdout          # it did start incrementally
    line = lines_before + 2
    expected = (f"{path}: line {line} has 6 fields but the header has {len(last)}. The file is "
                f"truncated or has unquoted commas")
    assert expected in result.stderr, result.stderr
    assert "served warehouse is unchanged" in result.stderr
    assert "Traceback" not in result.stderr and "dbt:" not in result.stdout
    assert _record(data_dir, build_id_from(result.stdout))["status"] == "structural_error"
    assert sha256_file(served) == sha
    assert _leftovers(data_dir) == []

    # the full build of the same files says the same
    full = run_cli("build", "--raw", str(raw), data_dir=data_dir, timeout=300)
    assert full.returncode == 2
    assert expected in full.stderr, full.stderr


# --------------------------------------------------------------------------- damaged served file


def test_check_on_a_truncated_served_file_exits_2_and_rollback_serves_the_kept_copy(
        data_dir: Path):
    served = data_dir / "warehouse" / "rapport.duckdb"
    state = warehouse_state(served)
    kept = data_dir / "warehouse" / "builds" / f"{state['build_id']}.duckdb"
    data = served.read_bytes()
    served.write_bytes(data[: len(data) // 2])

    check = run_cli("check", data_dir=data_dir, timeout=300)
    assert check.returncode == 2, check.stdout[-2000:] + check.stderr[-2000:]
    message = check.stderr
    assert f"the served warehouse {served} is damaged: DuckDB cannot read it" in message
    assert (f"run `rapport rollback`: it serves build {state['build_id']} again from its kept "
            f"copy ({kept}); or run `rapport build`") in message
    assert "Traceback" not in message and "IOException" not in message

    rollback = run_cli("rollback", data_dir=data_dir, timeout=120)
    assert rollback.returncode == 0, rollback.stderr
    assert f"now serving build {state['build_id']} again from its kept copy" in rollback.stdout
    assert sha256_file(served) == sha256_file(kept)
    assert warehouse_state(served) == state


# --------------------------------------------------------------------------- programming errors


def test_an_unexpected_error_gives_its_message_and_the_log_of_its_traceback(
        data_dir: Path, demo_raw: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture):
    """In process, with the gate replaced by a function that fails the way a bug does."""
    import rapport.pipeline.quarantine
    from rapport.pipeline.build import run_build

    def broken_gate(*_args, **_kwargs):
        return {}["as_of_date"]  # KeyError, as a bug would raise

    monkeypatch.setenv("RAPPORT_DATA_DIR", str(data_dir))
    monkeypatch.delenv("RAPPORT_WAREHOUSE", raising=False)
    monkeypatch.setattr(rapport.pipeline.quarantine, "run_gate", broken_gate)
    served = data_dir / "warehouse" / "rapport.duckdb"
    sha = sha256_file(served)

    assert run_build(raw=demo_raw) == 1
    out, err = capsys.readouterr()
    build_id = build_id_from(out)
    log = data_dir / "warehouse" / "builds" / f"{build_id}.log"
    assert (f"rapport build: build {build_id} failed during gate with an unexpected error: "
            f"KeyError: 'as_of_date'. The traceback is in {log}") in err
    assert "Traceback" not in err
    assert "Traceback (most recent call last)" in log.read_text()
    assert "broken_gate" in log.read_text()
    record = _record(data_dir, build_id)
    assert (record["status"], record["extra"]["log"]) == ("error", str(log))
    assert record["summary"] == "KeyError during gate: 'as_of_date'"
    assert sha256_file(served) == sha


def test_an_unexpected_error_in_check_gives_its_message_and_the_log(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    import rapport.pipeline.checks.runner
    from rapport.pipeline.build import run_check

    def broken(*_args, **_kwargs):
        raise AttributeError("'NoneType' object has no attribute 'suite'")

    monkeypatch.setenv("RAPPORT_DATA_DIR", str(data_dir))
    monkeypatch.delenv("RAPPORT_WAREHOUSE", raising=False)
    monkeypatch.setattr(rapport.pipeline.checks.runner, "run_checks", broken)
    assert run_check() == 1
    err = capsys.readouterr().err
    logs = list((data_dir / "warehouse" / "logs").glob("check-*.log"))
    assert len(logs) == 1
    assert (f"rapport check: failed with an unexpected error: AttributeError: 'NoneType' "
            f"object has no attribute 'suite'. The traceback is in {logs[0]}") in err
    assert "Nothing was changed (rapport check only reads the served file)." in err
    assert "Traceback" not in err and "Traceback" in logs[0].read_text()
