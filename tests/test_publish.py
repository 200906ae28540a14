"""Blue/green publishing on hand-made DuckDB files: build ids, the lock, publish, rollback,
retention, read-only opening. No dbt, no GX: these run in about a second."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline import publish
from rapport.pipeline.publish import (
    GOOD,
    BuildRecord,
    BuildRunning,
    PublishError,
    WarehouseLock,
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RAPPORT_WAREHOUSE", raising=False)
    (tmp_path / "warehouse" / "builds").mkdir(parents=True)
    return tmp_path


def make_build(build_id: str, rows: int, status: str = GOOD) -> Path:
    """A small finished build file: meta.build_info plus a table of `rows` rows."""
    path = publish.build_file(build_id)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema meta")
        con.execute("create table meta.build_info as select ? as build_id", [build_id])
        con.execute(f"create table facts as select range as id from range({rows})")
    publish.write_record(BuildRecord(build_id=build_id, status=status,
                                     started_at="2026-01-01 00:00:00"))
    return path


def served_state() -> tuple[str, int]:
    with publish.open_served() as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()[0]
        rows = con.execute("select count(*) from facts").fetchone()[0]
    return build_id, rows


def test_build_ids_are_utc_timestamps_with_a_random_suffix_and_sort_in_time_order():
    first = publish.new_build_id()
    time.sleep(0.002)
    second = publish.new_build_id()
    assert re.fullmatch(r"\d{8}T\d{9}Z-[0-9a-f]{4}", first)
    assert first < second
    moment = datetime(2026, 11, 23, 13, 13, 54, 123456, tzinfo=UTC)
    assert publish.new_build_id(moment).startswith("20261123T131354123Z-")


def test_publish_serves_the_build_and_changes_the_file_identity(data_dir: Path):
    make_build("20260101T000000000Z-aaaa", rows=3)
    make_build("20260102T000000000Z-bbbb", rows=5)
    assert publish.file_identity() is None

    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    first_identity = publish.file_identity()
    assert served_state() == ("20260101T000000000Z-aaaa", 3)

    publish.publish_file(publish.build_file("20260102T000000000Z-bbbb"))
    assert served_state() == ("20260102T000000000Z-bbbb", 5)
    assert publish.file_identity() != first_identity
    # no temporary files are left beside the served file
    assert sorted(p.name for p in (data_dir / "warehouse").iterdir()) == ["builds", "rapport.duckdb"]


def test_publish_refuses_a_build_with_an_unflushed_wal_and_keeps_the_served_file(data_dir: Path):
    make_build("20260101T000000000Z-aaaa", rows=3)
    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    before = publish.sha256_file(publish.served_warehouse())
    broken = make_build("20260102T000000000Z-bbbb", rows=5)
    Path(f"{broken}.wal").write_bytes(b"not flushed")
    with pytest.raises(PublishError, match="write-ahead log"):
        publish.publish_file(broken)
    assert publish.sha256_file(publish.served_warehouse()) == before


def test_a_reader_connection_opened_before_a_publish_keeps_reading_its_build(data_dir: Path):
    make_build("20260101T000000000Z-aaaa", rows=3)
    make_build("20260102T000000000Z-bbbb", rows=5)
    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    # the reader runs in another process, as the dashboard does
    script = textwrap.dedent(f"""
        import sys, time, duckdb
        con = duckdb.connect({str(publish.served_warehouse())!r}, read_only=True)
        print(con.execute("select count(*) from facts").fetchone()[0], flush=True)
        sys.stdin.readline()
        print(con.execute("select count(*) from facts").fetchone()[0], flush=True)
        con.close()
        con = duckdb.connect({str(publish.served_warehouse())!r}, read_only=True)
        print(con.execute("select count(*) from facts").fetchone()[0], flush=True)
    """)
    reader = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "3"
    publish.publish_file(publish.build_file("20260102T000000000Z-bbbb"))
    out, _ = reader.communicate("go\n", timeout=30)
    # old connection: still the old build (3 rows); a new connection: the new build (5 rows)
    assert out.split() == ["3", "5"]
    assert reader.returncode == 0


def test_open_served_is_read_only(data_dir: Path):
    make_build("20260101T000000000Z-aaaa", rows=3)
    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    with publish.open_served() as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("create table x as select 1")
    with pytest.raises(PublishError, match="never opened read-write"):
        publish.open_served(read_only=False)


def test_open_served_without_a_warehouse_says_to_build(data_dir: Path):
    with pytest.raises(FileNotFoundError, match="rapport build"):
        publish.open_served()


def test_rollback_steps_back_one_good_build_at_a_time(data_dir: Path):
    make_build("20260101T000000000Z-aaaa", rows=1)
    make_build("20260102T000000000Z-bbbb", rows=2)
    make_build("20260103T000000000Z-cccc", rows=3, status="checks_failed")
    make_build("20260104T000000000Z-dddd", rows=4)
    publish.publish_file(publish.build_file("20260104T000000000Z-dddd"))

    before, after = publish.rollback()
    # the failed build cccc is skipped: the previous good build is bbbb
    assert (before, after) == ("20260104T000000000Z-dddd", "20260102T000000000Z-bbbb")
    assert served_state() == ("20260102T000000000Z-bbbb", 2)
    assert publish.read_record("20260104T000000000Z-dddd").status == "rolled_back"

    assert publish.rollback() == ("20260102T000000000Z-bbbb", "20260101T000000000Z-aaaa")
    assert served_state() == ("20260101T000000000Z-aaaa", 1)

    checksum = publish.sha256_file(publish.served_warehouse())
    with pytest.raises(PublishError, match="no earlier good build"):
        publish.rollback()
    assert publish.sha256_file(publish.served_warehouse()) == checksum


def test_retention_keeps_two_good_and_three_failed_builds_and_never_the_served_one(
        data_dir: Path):
    good = [f"2026010{d}T000000000Z-g00{d}" for d in range(1, 5)]          # 4 good
    failed = [f"2026011{d}T000000000Z-f00{d}" for d in range(1, 6)]        # 5 failed
    for i, build_id in enumerate(good):
        make_build(build_id, rows=i + 1)
    for i, build_id in enumerate(failed):
        make_build(build_id, rows=i + 1, status="checks_failed")
    publish.publish_file(publish.build_file(good[0]))        # an old build is served
    orphan = publish.builds_dir() / "20251231T000000000Z-dead.duckdb"   # killed, no record
    orphan.write_bytes(b"")

    deleted = publish.apply_retention()

    # good: keep the newest two (g003, g004) and the served one (g001); delete g002.
    # failed: keep the newest three (f003..f005); delete f001, f002.
    assert sorted(deleted) == sorted([good[1], failed[0], failed[1]])
    left = sorted(p.stem for p in publish.builds_dir().glob("*.duckdb"))
    assert left == sorted([good[0], good[2], good[3], *failed[2:]])
    assert sorted(p.stem for p in publish.builds_dir().glob("*.json")) == left
    assert not orphan.exists()
    assert served_state() == (good[0], 1)


def test_records_left_running_are_marked_interrupted(data_dir: Path):
    publish.write_record(BuildRecord("20260101T000000000Z-aaaa", "running", "2026-01-01"))
    publish.write_record(BuildRecord("20260102T000000000Z-bbbb", "running", "2026-01-02"))
    assert publish.mark_interrupted("20260102T000000000Z-bbbb") == ["20260101T000000000Z-aaaa"]
    assert publish.read_record("20260101T000000000Z-aaaa").status == "interrupted"
    assert publish.read_record("20260102T000000000Z-bbbb").status == "running"


HOLD_LOCK = """
import os, sys, time
os.environ["RAPPORT_DATA_DIR"] = sys.argv[1]
from rapport.pipeline.publish import WarehouseLock
lock = WarehouseLock(sys.argv[2]).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def _hold_lock(data_dir: Path, build_id: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(data_dir), build_id],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_lock_is_refused_at_once_naming_the_running_build(data_dir: Path):
    holder = _hold_lock(data_dir, "20260101T000000000Z-aaaa")
    try:
        started = time.monotonic()
        with pytest.raises(BuildRunning) as refused:
            WarehouseLock("20260101T000000001Z-bbbb").acquire()
        assert time.monotonic() - started < 1.0
        message = str(refused.value)
        assert "20260101T000000000Z-aaaa" in message
        assert f"pid {holder.pid}" in message
        assert publish.read_lock_holder().build_id == "20260101T000000000Z-aaaa"
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_process_is_taken_over(data_dir: Path):
    holder = _hold_lock(data_dir, "20260101T000000000Z-dead")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert not publish.pid_alive(holder.pid)
    assert publish.read_lock_holder() is None          # the kernel dropped the flock

    with WarehouseLock("20260102T000000000Z-live") as lock:
        assert lock.stale is not None
        assert (lock.stale.build_id, lock.stale.pid) == ("20260101T000000000Z-dead", holder.pid)
        assert publish.read_lock_holder().build_id == "20260102T000000000Z-live"
    assert publish.read_lock_holder() is None


def test_retention_removes_the_temporary_link_of_a_killed_publish(data_dir: Path):
    make_build("20260101T000000000Z-aaaa", rows=3)
    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    debris = data_dir / "warehouse" / f".rapport.duckdb.{dead.stdout.strip()}.a1b2c3.tmp"
    debris.write_bytes(b"half a publish")
    publish.apply_retention()
    assert not debris.exists()
    assert served_state() == ("20260101T000000000Z-aaaa", 3)


def test_a_kept_build_opened_read_write_does_not_lock_or_change_the_served_file(data_dir: Path):
    build = make_build("20260101T000000000Z-aaaa", rows=3)
    publish.publish_file(build)
    checksum = publish.sha256_file(publish.served_warehouse())
    script = textwrap.dedent(f"""
        import sys, duckdb
        con = duckdb.connect({str(build)!r})            # read-write, as an inspecting person might
        con.execute("insert into facts values (99)")
        print("open", flush=True)
        sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert served_state() == ("20260101T000000000Z-aaaa", 3)
    finally:
        holder.communicate("done\n", timeout=30)
    assert publish.sha256_file(publish.served_warehouse()) == checksum


# --------------------------------------------------------------------------- stops, full disk


@pytest.fixture
def stop_signals():
    """rapport.errors.stop_signals for the test, the test process's handlers restored after
    (after a stop, stop_signals leaves its handler installed: the command is ending)."""
    from rapport import errors

    saved = {s: signal.getsignal(s) for s in errors.STOP_SIGNALS}
    try:
        with errors.stop_signals():
            yield errors
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def _signal_self(signum: int):
    def send(*_args: object) -> None:
        os.kill(os.getpid(), signum)
    return send


def test_a_stop_signal_before_the_replace_cancels_the_publish_and_removes_its_copy(
        data_dir: Path, stop_signals, monkeypatch: pytest.MonkeyPatch):
    make_build("20260101T000000000Z-aaaa", rows=3)
    make_build("20260102T000000000Z-bbbb", rows=5)
    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    checksum = publish.sha256_file(publish.served_warehouse())
    copy = shutil.copyfile

    def copy_then_sigterm(src, dst):
        copy(src, dst)
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises at the next instruction

    monkeypatch.setattr(publish.shutil, "copyfile", copy_then_sigterm)
    with pytest.raises(stop_signals.Interrupted) as stopped:
        publish.publish_file(publish.build_file("20260102T000000000Z-bbbb"))
    assert stopped.value.exit_code == 143
    assert publish.sha256_file(publish.served_warehouse()) == checksum
    assert sorted(p.name for p in (data_dir / "warehouse").iterdir()) == ["builds",
                                                                         "rapport.duckdb"]


def test_a_stop_signal_after_the_replace_is_remembered_and_the_publish_recorded(
        data_dir: Path, stop_signals):
    make_build("20260101T000000000Z-aaaa", rows=3)
    make_build("20260102T000000000Z-bbbb", rows=5, status="running")
    publish.publish_file(publish.build_file("20260101T000000000Z-aaaa"))
    record = publish.read_record("20260102T000000000Z-bbbb")

    def served() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # lands between the replace and the record
        record.status = GOOD
        publish.write_record(record)

    publish.publish_file(publish.build_file("20260102T000000000Z-bbbb"), on_commit=served)
    assert stop_signals.stop_requested() == signal.SIGINT
    assert served_state() == ("20260102T000000000Z-bbbb", 5)
    assert publish.read_record("20260102T000000000Z-bbbb").status == GOOD


def test_a_record_is_updated_in_place_when_the_disk_is_full_and_no_temp_file_is_left(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    record = BuildRecord("20260101T000000000Z-aaaa", "running", "2026-01-01 00:00:00")
    publish.write_record(record)
    # a full disk: a new file (the record's temporary file) gets no block
    monkeypatch.setattr(publish, "_DISK_FULL_ARMED", True)
    record.status, record.summary = "error", "no space left on device while writing x"
    publish.write_record(record)
    assert publish.read_record(record.build_id).status == "error"
    # a record that does not exist yet cannot be written; its empty temporary file is removed
    with pytest.raises(OSError, match="No space left on device"):
        publish.write_record(BuildRecord("20260102T000000000Z-bbbb", "running", "2026-01-02"))
    assert sorted(p.name for p in publish.builds_dir().iterdir()) == [
        "20260101T000000000Z-aaaa.json"]


def test_rollback_interrupted_by_sigint_changes_nothing_and_frees_the_lock(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
        stop_signals):
    from rapport.pipeline.build import run_rollback

    make_build("20260101T000000000Z-aaaa", rows=1)
    make_build("20260102T000000000Z-bbbb", rows=2)
    publish.publish_file(publish.build_file("20260102T000000000Z-bbbb"))
    checksum = publish.sha256_file(publish.served_warehouse())
    copy = shutil.copyfile

    def copy_then_sigint(src, dst):
        copy(src, dst)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(publish.shutil, "copyfile", copy_then_sigint)
    assert run_rollback() == 130
    assert "rapport rollback: interrupted by SIGINT; nothing was changed: the served " \
           "warehouse is still build 20260102T000000000Z-bbbb" in capsys.readouterr().err
    assert publish.sha256_file(publish.served_warehouse()) == checksum
    assert publish.read_record("20260102T000000000Z-bbbb").status == GOOD
    assert publish.read_lock_holder() is None
    assert not list((data_dir / "warehouse").glob(".*"))


def test_rollback_serves_the_kept_copy_again_when_the_served_file_is_truncated(
        data_dir: Path, capsys: pytest.CaptureFixture):
    from rapport.pipeline.build import run_rollback

    make_build("20260101T000000000Z-aaaa", rows=1)
    kept = make_build("20260102T000000000Z-bbbb", rows=2)
    publish.publish_file(kept)
    served = publish.served_warehouse()
    os.truncate(served, served.stat().st_size // 2)
    assert publish.served_damaged()
    assert run_rollback() == 0
    assert "repaired: the served file was damaged (its build id could not be read); now " \
           "serving build 20260102T000000000Z-bbbb again" in capsys.readouterr().out
    assert publish.sha256_file(served) == publish.sha256_file(kept)
    assert publish.read_record("20260102T000000000Z-bbbb").status == GOOD  # not stepped away


def test_rollback_without_space_for_its_copy_exits_2_and_changes_nothing(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    from rapport.pipeline.build import run_rollback

    make_build("20260101T000000000Z-aaaa", rows=1)
    make_build("20260102T000000000Z-bbbb", rows=2)
    publish.publish_file(publish.build_file("20260102T000000000Z-bbbb"))
    checksum = publish.sha256_file(publish.served_warehouse())

    def no_space(src, dst):
        Path(dst).write_bytes(b"")  # the copy was created, then the disk was full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr(publish.shutil, "copyfile", no_space)
    assert run_rollback() == 2
    err = capsys.readouterr().err
    assert "rapport rollback: no space left on device while writing " in err
    assert "; free space and run again. Nothing was changed: the served warehouse is still " \
           "build 20260102T000000000Z-bbbb" in err
    assert publish.sha256_file(publish.served_warehouse()) == checksum
    assert publish.read_record("20260102T000000000Z-bbbb").status == GOOD
    assert not list((data_dir / "warehouse").glob(".*"))
    assert publish.read_lock_holder() is None
