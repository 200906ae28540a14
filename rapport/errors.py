"""Errors the pipeline reports to people, with the exit code each one means; stop signals.

Exit codes of the commands: 0 done; 1 checks failed, the build was refused or crashed; 2 the
input cannot be read, the disk is full, or the served file is damaged; 3 the engine cannot
run here; 130 / 143 interrupted by SIGINT / SIGTERM (128 + the signal's number).
"""

from __future__ import annotations

import contextlib
import errno
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class RapportError(Exception):
    """An error whose message is meant for the user: what happened, where, what to do."""

    exit_code = 1


class StructuralError(RapportError):
    """The input cannot be read as the contract says (file, column, delimiter, encoding).

    The build stops before anything is written where readers can see it.
    """

    exit_code = 2


class BuildRefused(RapportError):
    """Another build is running, or the build cannot start."""

    exit_code = 1


class DamagedWarehouse(RapportError):
    """The served warehouse file cannot be opened or read (truncated, overwritten...)."""

    exit_code = 2


# --------------------------------------------------------------------------- disk full

_NO_SPACE = re.compile(r"no space left on device|disk quota exceeded", re.IGNORECASE)
_DUCKDB_FILE = re.compile(r'(?:write|open|create|extend|truncate|sync)[^"]*"([^"]+)"',
                          re.IGNORECASE)


def disk_full(exc: BaseException) -> str | None:
    """When `exc` (or what it was raised from) says the disk is full: the file being written
    ("" when unknown); else None. Python's OSError(ENOSPC / EDQUOT) and DuckDB's
    'IO Error: Could not write file "...": No space left on device' both count."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return str(current.filename or "")
        text = str(current)
        if _NO_SPACE.search(text):
            found = _DUCKDB_FILE.search(text)
            return found.group(1) if found else ""
        current = current.__cause__ or current.__context__
    return None


# --------------------------------------------------------------------------- stop signals

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM asked the command to stop.

    A KeyboardInterrupt, so that dbt (which cancels its running queries and waits for its
    threads on KeyboardInterrupt) and every `except Exception` let it through.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class _StopState:
    def __init__(self) -> None:
        self.signum: int | None = None  # the first stop signal received
        self.received = 0  # how many
        self.deferred = 0  # inside deferred_stop(): remember, do not raise
        self.raised = False  # Interrupted was raised once
        self.on_stop: list[Callable[[], None]] = []  # e.g. DuckDB connections' interrupt()
        self.echo: Callable[[str], None] = lambda text: print(text, file=sys.stderr,
                                                               flush=True)


_STATE = _StopState()


def stop_requested() -> int | None:
    """The signal number when SIGINT/SIGTERM asked this command to stop, else None."""
    return _STATE.signum


def raise_if_stopping() -> None:
    """Raise Interrupted when a stop was requested (a check between steps: some libraries
    swallow the exception the signal handler raised, e.g. dbt's runner returns it)."""
    if _STATE.signum is not None and not _STATE.deferred:
        _STATE.raised = True
        raise Interrupted(_STATE.signum)


def _handler(signum: int, _frame: object) -> None:
    _STATE.received += 1
    if _STATE.signum is not None:
        # A second Ctrl-C: already stopping. Raising again could cut dbt's cancel short and
        # leave its threads writing while the build file is closed: only say so.
        _STATE.echo(f"rapport: {signal.Signals(signum).name} again: already stopping, "
                    "cleaning up (a few seconds)")
        return
    _STATE.signum = signum
    _STATE.echo(f"rapport: {signal.Signals(signum).name} received: stopping")
    for stop in list(_STATE.on_stop):
        with contextlib.suppress(Exception):
            stop()
    if not _STATE.deferred:
        _STATE.raised = True
        raise Interrupted(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted in the main thread for the duration.

    Installed even when the signal was ignored when the process started (a command started
    in the background of a script inherits an ignored SIGINT, and then `kill -INT` did
    nothing). The previous handlers are restored afterwards. Outside the main thread (a
    command called from a thread) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    _STATE.__init__()
    for s in STOP_SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        stopped = _STATE.signum is not None
        _STATE.__init__()  # nothing after the block sees this stop
        for s, handler in previous.items():
            if stopped:  # the command ends because of the signal: a second Ctrl-C while
                signal.signal(s, _ending)  # Python exits is no KeyboardInterrupt traceback
            else:
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)


def _ending(signum: int, _frame: object) -> None:
    _STATE.echo(f"rapport: {signal.Signals(signum).name} again: already stopping")


@contextlib.contextmanager
def deferred_stop(raise_after: bool = True) -> Iterator[None]:
    """A stop signal received inside is only remembered, not raised, for steps that must not
    be cut in half (writing a record; replacing the served file and recording that it was).
    At the end of the outermost such block it is raised, unless raise_after is False (the
    caller then looks at stop_requested() itself: the publish, which has happened)."""
    _STATE.deferred += 1
    try:
        yield
    finally:
        _STATE.deferred -= 1
    if raise_after and not _STATE.deferred and _STATE.signum is not None and not _STATE.raised:
        raise_if_stopping()


@contextlib.contextmanager
def interrupt_on_stop(stop: Callable[[], None]) -> Iterator[None]:
    """Call `stop` (e.g. a DuckDB connection's interrupt) when a stop signal arrives while
    the block runs, so a long query ends at once instead of running to its end."""
    _STATE.on_stop.append(stop)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            _STATE.on_stop.remove(stop)


# --------------------------------------------------------------------------- crash logs


def write_crash_log(path: Path, title: str) -> Path | None:
    """Write the traceback of the exception being handled to `path`; None if it cannot be
    written (the caller then prints it)."""
    import traceback

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"{title}\n{traceback.format_exc()}\n")
    except OSError:
        return None
    return path
