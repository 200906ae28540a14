"""Running the real `rapport` command line against a throw-away data folder."""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from rapport.paths import PROJECT_ROOT

BUILD_TIMEOUT = 1800  # seconds; a build at test scale takes about a minute on 2 busy cores


def gate_fixture(db_path: Path, raw_dir: Path, build_id: str, as_of) -> None:
    """A hand-made fixture folder through the real ingest and quarantine gate into db_path,
    which must come out clean (every row of a hand-worked fixture is meant to count)."""
    from rapport.pipeline.ingest import load_raw
    from rapport.pipeline.quarantine import run_gate

    con = duckdb.connect(str(db_path))
    try:
        load_raw(con, raw_dir)
        gate = run_gate(con, build_id, as_of)
    finally:
        con.close()
    assert gate.quarantined_total == 0, f"the fixture {raw_dir.name} is meant to be clean"


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAPPORT_WAREHOUSE", "RAPPORT_TEST_PAUSE_AT", "RAPPORT_THRESHOLDS")}
    env.update(RAPPORT_DATA_DIR=str(data_dir), **extra)
    return env


def run_cli(*args: str, data_dir: Path, timeout: float = BUILD_TIMEOUT,
            **extra_env: str) -> subprocess.CompletedProcess:
    """Run `python -m rapport.cli <args>` to the end; stdout and stderr captured."""
    return subprocess.run([sys.executable, "-m", "rapport.cli", *args], cwd=PROJECT_ROOT,
                          env=cli_env(data_dir, **extra_env), capture_output=True, text=True,
                          timeout=timeout, check=False)


# Starts the command with SIGINT ignored: exec keeps an ignored signal ignored.
_IGNORING_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                    "os.execv(sys.executable, [sys.executable, '-m', 'rapport.cli', "
                    "*sys.argv[1:]])")


def start_cli(*args: str, data_dir: Path, ignore_sigint: bool = False,
              **extra_env: str) -> subprocess.Popen:
    """Start the command in its own process group (so a test can SIGKILL all of it).

    ignore_sigint: start it with SIGINT ignored, as a shell starts a command in the
    background of a script (`rapport build &`), which then inherits the ignored signal.
    """
    command = (["-c", _IGNORING_SIGINT] if ignore_sigint else ["-m", "rapport.cli"])
    return subprocess.Popen([sys.executable, *command, *args], cwd=PROJECT_ROOT,
                            env=cli_env(data_dir, **extra_env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float = BUILD_TIMEOUT
                  ) -> tuple[re.Match, list[str]]:
    """Read the process's output until a line matches `pattern`; fail on exit or timeout.

    Reads the pipe's file descriptor directly (os.read), never through proc.stdout's buffer:
    select() only sees the pipe, so a line already pulled into a Python buffer together with
    the one before it would be waited for until the timeout. Bytes read after the matching
    line are kept on `proc` for the next call.
    """
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    fd = proc.stdout.fileno()
    pending: bytes = getattr(proc, "_rapport_pending", b"")
    at_end = False
    while True:
        while b"\n" in pending or (at_end and pending):
            line, _, pending = pending.partition(b"\n")
            text = line.decode("utf-8", "replace")
            seen.append(text)
            found = regex.search(text)
            if found:
                proc._rapport_pending = pending  # type: ignore[attr-defined]
                return found, seen
        if at_end or time.monotonic() >= deadline:
            break
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            chunk = os.read(fd, 65536)
            pending += chunk
            at_end = not chunk
        elif proc.poll() is not None:
            at_end = True
    output = "\n".join(seen[-60:])
    raise AssertionError(f"no line matching {pattern!r} (exit {proc.poll()}):\n{output}")


def finish(proc: subprocess.Popen, timeout: float = BUILD_TIMEOUT) -> tuple[int, list[str]]:
    """Read the process's output to its end and wait for it: (exit code, the lines not read
    yet). Kills the group and fails when it has not ended within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    data: bytes = getattr(proc, "_rapport_pending", b"")
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    else:
        kill_group(proc)
        tail = data.decode("utf-8", "replace")[-4000:]
        raise AssertionError(f"still running after {timeout} s:\n{tail}")
    proc._rapport_pending = b""  # type: ignore[attr-defined]
    return proc.wait(timeout=60), data.decode("utf-8", "replace").splitlines()


def group_gone(proc: subprocess.Popen, within: float = 10.0) -> bool:
    """Whether every process of the command's process group has ended within `within`
    seconds (helpers such as multiprocessing's resource tracker end when the command does,
    a moment later)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)
    if proc.stdout:
        proc.stdout.close()


def copy_data_dir(src: Path, dst: Path) -> Path:
    """Copy a data folder's warehouse (served file, builds, records), not its lock."""
    (dst / "warehouse").mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "warehouse" / "rapport.duckdb", dst / "warehouse" / "rapport.duckdb")
    builds = src / "warehouse" / "builds"
    if builds.exists():
        shutil.copytree(builds, dst / "warehouse" / "builds",
                        ignore=shutil.ignore_patterns("*.dbt"), dirs_exist_ok=True)
    return dst


def build_id_from(output: str) -> str:
    found = re.search(r"build (\d{8}T\d{9}Z-[0-9a-f]{4}) started", output)
    assert found, f"no build id in the output:\n{output[-3000:]}"
    return found.group(1)


def warehouse_state(path: Path) -> dict[str, object]:
    """What a reader sees: build id and the row counts of a few tables, one connection."""
    with duckdb.connect(str(path), read_only=True) as con:
        state: dict[str, object] = {
            "build_id": con.execute("select build_id from meta.build_info").fetchone()[0]}
        for table in ("raw.interactions", "validated.interactions", "marts.fct_interactions",
                      "marts.dim_accounts", "meta.dq_results"):
            state[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
    return state
