"""Blue/green publishing of warehouse files.

Every build writes its own file, ``data/warehouse/builds/<build_id>.duckdb``. Only a build
whose blocking checks passed is published: a copy of its file is moved onto the served path
with ``os.replace``, which is atomic on POSIX. Readers that already hold the old
file keep reading the old inode; the next connection opens the new one. Nothing ever opens the
served file read-write.

Beside each build file sits ``<build_id>.json`` (its record: status, times, summary), written
atomically. Statuses: ``running`` (written at start; found later without a live lock holder it
means the build was killed: ``interrupted``), ``passed`` (a good build, candidate for
rollback), ``checks_failed``, ``structural_error``, ``error`` and ``rolled_back`` (a good build
that a rollback stepped away from).

This module imports only the standard library and duckdb.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from rapport.errors import deferred_stop, raise_if_stopping
from rapport.paths import served_warehouse, warehouse_dir
from rapport.pipeline.stage_hook import pause_at

LOCK_NAME = "build.lock"
GOOD = "passed"
RUNNING = "running"
INTERRUPTED = "interrupted"
ROLLED_BACK = "rolled_back"
FAILED_STATUSES = ("checks_failed", "structural_error", "error", INTERRUPTED, ROLLED_BACK)
KEEP_GOOD = 2
KEEP_FAILED = 3


class BuildRunning(RuntimeError):
    """Another build (or rollback) holds the warehouse lock."""


class PublishError(RuntimeError):
    """Publishing or rolling back could not be done; the served file is unchanged."""


# --------------------------------------------------------------------------- build ids


def new_build_id(now: datetime | None = None) -> str:
    """A sortable, unique build id: UTC timestamp (ms) plus a short random suffix.

    Example: ``20261123T131354123Z-3fa2``. Ids sort in start order.
    """
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(2)}"


def builds_dir() -> Path:
    return warehouse_dir() / "builds"


def build_file(build_id: str) -> Path:
    return builds_dir() / f"{build_id}.duckdb"


def record_file(build_id: str) -> Path:
    return builds_dir() / f"{build_id}.json"


def log_file(build_id: str) -> Path:
    """Where a build that stopped on an unexpected error wrote its traceback."""
    return builds_dir() / f"{build_id}.log"


def lock_file() -> Path:
    return warehouse_dir() / LOCK_NAME


# --------------------------------------------------------------------------- lock


@dataclass
class LockInfo:
    pid: int
    build_id: str
    started_at: str
    command: str = "build"


class WarehouseLock:
    """One build or rollback at a time, per warehouse directory.

    The lock is an ``flock`` on ``data/warehouse/build.lock``; the file also holds the pid and
    build id of the holder so a refused build can say who runs. The kernel drops the flock
    when its process dies (even by SIGKILL), so a lock file left by a dead process is simply
    taken over; ``stale`` then names the build that died.
    """

    def __init__(self, build_id: str, command: str = "build") -> None:
        self.info = LockInfo(os.getpid(), build_id, _utc_now_text(), command)
        self.path = lock_file()
        self.stale: LockInfo | None = None
        self._fd: int | None = None

    def acquire(self) -> WarehouseLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_lock_info(fd)
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise BuildRunning(_running_message(holder, self.path)) from None
        previous = _read_lock_info(fd)
        if previous is not None and previous.pid != os.getpid():
            self.stale = previous
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(self.info)) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)  # an empty lock file means: nobody builds
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> WarehouseLock:  # noqa: PYI034
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_lock_holder() -> LockInfo | None:
    """Who holds the warehouse lock right now, or None when nobody does."""
    path = lock_file()
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_lock_info(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_lock_info(fd: int) -> LockInfo | None:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", errors="replace").strip()
        if not text:
            return None
        data = json.loads(text)
        return LockInfo(int(data["pid"]), str(data["build_id"]), str(data.get("started_at", "?")),
                        str(data.get("command", "build")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _running_message(holder: LockInfo | None, path: Path) -> str:
    if holder is None:
        who = "another build"
    else:
        who = (f"{holder.command} {holder.build_id} (pid {holder.pid}, "
               f"started {holder.started_at} UTC)")
    return (f"refused: {who} is running on this warehouse ({path}). "
            f"Wait for it to finish and try again; the served warehouse is unchanged.")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- build records


@dataclass
class BuildRecord:
    build_id: str
    status: str
    started_at: str
    finished_at: str | None = None
    as_of_date: str | None = None
    pid: int | None = None
    summary: str = ""
    extra: dict = field(default_factory=dict)


def write_record(record: BuildRecord) -> None:
    """Write the record atomically (a temporary file renamed over it). When the disk is full
    and the record exists, it is overwritten in place instead: that needs no new block, so a
    build stopped by a full disk can still be marked failed."""
    path = record_file(record.build_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(record), indent=2, default=str) + "\n"
    with deferred_stop():  # a record is never left half written by a stop signal
        try:
            _atomic_write_text(path, text)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.exists():
                raise
            _overwrite_in_place(path, text)


def read_record(build_id: str) -> BuildRecord | None:
    path = record_file(build_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return BuildRecord(**{k: data.get(k) for k in BuildRecord.__dataclass_fields__
                          if k in data})


def list_records() -> list[BuildRecord]:
    """Every build record, oldest first (build ids sort by time)."""
    folder = builds_dir()
    if not folder.exists():
        return []
    records = []
    for path in sorted(folder.glob("*.json")):
        record = read_record(path.stem)
        if record is not None:
            records.append(record)
    return records


def mark_interrupted(current_build_id: str) -> list[str]:
    """Records still `running` that are not the current build belong to killed builds.

    Only call this while holding the warehouse lock: no other build can be running then.
    """
    marked = []
    for record in list_records():
        if record.status == RUNNING and record.build_id != current_build_id:
            record.status = INTERRUPTED
            record.summary = record.summary or "the build process ended before finishing"
            write_record(record)
            marked.append(record.build_id)
    return marked


# --------------------------------------------------------------------------- files


def _utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            if _DISK_FULL_ARMED:  # test hook (disk_full_for_test): a new file gets no block
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _overwrite_in_place(path: Path, text: str) -> None:
    """Rewrite a small existing file without freeing its block first (write, then cut)."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def file_identity(path: Path | None = None) -> tuple[int, int] | None:
    """(st_ino, st_mtime_ns) of the served file: changes whenever a build is published."""
    try:
        st = os.stat(path or served_warehouse())
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def publish_file(source: Path, served: Path | None = None,
                 on_commit: Callable[[], None] | None = None) -> Path:
    """Atomically make ``source`` the served warehouse.

    ``source`` must be a closed, checkpointed DuckDB file (no WAL beside it). It is copied next
    to the served path, flushed, and moved onto the served path with ``os.replace``. Before
    the replace the served file is untouched; after it, the new file is complete. There is no
    moment in between. Readers holding the old file keep reading the old inode.

    A stop signal (rapport.errors.stop_signals) before the replace cancels the publish (the
    temporary copy is removed, Interrupted raised); from the replace to the end of
    ``on_commit`` (the caller records what it served) it is only remembered, so a served
    file is always recorded as such. The caller checks rapport.errors.stop_requested().
    """
    served = served or served_warehouse()
    source = Path(source)
    if not source.exists():
        raise PublishError(f"cannot publish {source}: the file does not exist")
    if Path(f"{source}.wal").exists():
        raise PublishError(f"cannot publish {source}: it has an unflushed write-ahead log "
                           f"({source}.wal); the build did not close its connection")
    served.parent.mkdir(parents=True, exist_ok=True)
    _fsync_file(source)
    tmp = served.with_name(f".{served.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        # A copy, not a hard link: opening a kept build file read-write (to inspect it) must
        # never lock or change the served file.
        shutil.copyfile(source, tmp)
        _fsync_file(tmp)
        pause_at("publish")
        raise_if_stopping()  # the last point where a stop leaves the served file as it was
        stale_wal = Path(f"{served}.wal")
        if stale_wal.exists():  # nothing writes the served file; a WAL here is debris
            stale_wal.unlink()
        with deferred_stop(raise_after=False):
            os.replace(tmp, served)
            _fsync_dir(served.parent)
            if on_commit is not None:
                on_commit()
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return served


_DISK_FULL_ARMED = False


def disk_full_for_test(point: str, path: Path) -> None:
    """Test hook: RAPPORT_TEST_DISK_FULL_AT=<point> makes the write at that point fail the way
    DuckDB fails on a full disk, and from then on every new file rapport writes (a build
    record's temporary file) fails with ENOSPC after it was created empty, as on a real full
    disk; overwriting an existing small file in place still works. Points: `input_checks`
    (the checkpoint after the input checks), `checks` (writing the check results)."""
    global _DISK_FULL_ARMED
    if os.environ.get("RAPPORT_TEST_DISK_FULL_AT") == point:
        _DISK_FULL_ARMED = True
        raise duckdb.IOException(f'IO Error: Could not write file "{path}": '
                                 f"{os.strerror(errno.ENOSPC)}")


def remove_temp_files(build_id: str | None = None) -> list[Path]:
    """Remove the temporary files this process left (a publish's copy beside the served file,
    record files being written, an incremental build's copy); returns what was removed."""
    pid = os.getpid()
    served = served_warehouse()
    found = list(served.parent.glob(f".{served.name}.{pid}.*.tmp"))
    if builds_dir().exists():
        found += builds_dir().glob(f".*.{pid}.tmp")
        if build_id:
            found += builds_dir().glob(f".{build_id}.duckdb.copy")
    removed = []
    for path in found:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


# --------------------------------------------------------------------------- readers


def open_served(read_only: bool = True, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the served warehouse the way every reader must: read-only, short-lived.

    Use it in a ``with`` block and close it soon: ``with open_served() as con: ...``.
    A connection opened before a publish keeps reading the build it opened; open a new one
    (e.g. when ``file_identity()`` changes) to see the new build.
    """
    path = path or served_warehouse()
    if not read_only:
        raise PublishError("the served warehouse is never opened read-write: builds write "
                           "their own file under data/warehouse/builds/ and publish it")
    if not path.exists():
        raise FileNotFoundError(f"no served warehouse at {path}: run `rapport build` first")
    return duckdb.connect(str(path), read_only=True)


def build_id_of(path: Path) -> str | None:
    """The build id stored in a warehouse file's meta.build_info, or None."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("select build_id from meta.build_info limit 1").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def served_build_id() -> str | None:
    served = served_warehouse()
    return build_id_of(served) if served.exists() else None


# --------------------------------------------------------------------------- rollback, retention


def served_damaged() -> bool:
    """The served file exists but is not a whole build: DuckDB cannot read its build id, or
    its size differs from the kept copy of that build (a truncated file). Cheap: no hashing,
    so a file damaged in place at the same size is not seen here (`rapport check` finds it)."""
    served = served_warehouse()
    if not served.exists():
        return False
    current = build_id_of(served)
    if current is None:
        return True
    kept = build_file(current)
    return kept.exists() and kept.stat().st_size != served.stat().st_size


def rollback() -> tuple[str | None, str]:
    """Serve the good build before the one served now. Caller holds the warehouse lock.

    Returns (previous served build id, newly served build id). The build stepped away from is
    marked ``rolled_back`` so it is not chosen again and counts as a failed build.

    When the served file is damaged (served_damaged()), the newest good build is served again
    from its kept copy instead: usually the same build, so nothing is stepped away from.
    """
    current = served_build_id()
    good = [r for r in list_records() if r.status == GOOD and build_file(r.build_id).exists()]
    if served_damaged():
        same = [r for r in good if r.build_id == current]
        target = (same or good or [None])[-1]
        if target is None:
            raise PublishError(f"the served file {served_warehouse()} is damaged and no good "
                               f"build is kept to serve instead; run `rapport build`")
        if build_id_of(build_file(target.build_id)) != target.build_id:
            raise PublishError(f"build file {build_file(target.build_id)} does not hold build "
                               f"{target.build_id} either; run `rapport build`")
        publish_file(build_file(target.build_id))
        return current, target.build_id
    if current is not None:
        older = [r for r in good if r.build_id < current]
    else:
        older = good
    if not older:
        kept = ", ".join(r.build_id for r in good) or "none"
        raise PublishError(
            f"no earlier good build to roll back to (served: {current or 'nothing'}; "
            f"good builds kept: {kept}). The served warehouse is unchanged."
        )
    target = older[-1]
    stored_id = build_id_of(build_file(target.build_id))
    if stored_id != target.build_id:
        raise PublishError(f"build file {build_file(target.build_id)} does not hold build "
                           f"{target.build_id} (found {stored_id!r}); not serving it")
    def step_away() -> None:
        record = read_record(current) if current is not None else None
        if record is not None and record.status == GOOD:
            record.status = ROLLED_BACK
            record.summary = f"rolled back to {target.build_id} at {_utc_now_text()} UTC"
            write_record(record)

    publish_file(build_file(target.build_id), on_commit=step_away)
    return current, target.build_id


def apply_retention(keep_good: int = KEEP_GOOD, keep_failed: int = KEEP_FAILED,
                    protect: tuple[str, ...] = ()) -> list[str]:
    """Delete all but the newest `keep_good` good and `keep_failed` failed builds.

    The served build and ids in `protect` are never deleted. Returns the ids deleted.
    """
    served = served_build_id()
    records = list_records()
    good = [r.build_id for r in records if r.status == GOOD]
    failed = [r.build_id for r in records if r.status in FAILED_STATUSES]
    doomed = good[:-keep_good] if keep_good else good
    doomed += failed[:-keep_failed] if keep_failed else failed
    deleted = []
    for build_id in doomed:
        if build_id == served or build_id in protect:
            continue
        _delete_build(build_id)
        deleted.append(build_id)
    # A publish killed between its copy and its rename leaves a temporary file: debris.
    served_path = served_warehouse()
    for tmp in served_path.parent.glob(f".{served_path.name}.*.tmp"):
        pid = tmp.name.split(".")[-3]
        if not (pid.isdigit() and pid_alive(int(pid)) and int(pid) != os.getpid()):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    # Build files without a record (a build killed before it wrote one) are debris.
    known = {r.build_id for r in list_records()}
    for path in builds_dir().glob("*.duckdb") if builds_dir().exists() else []:
        if path.stem not in known and path.stem not in protect:
            _delete_build(path.stem)
    return deleted


def _delete_build(build_id: str) -> None:
    """Remove a build's file, WAL, record and dbt artefacts."""
    for path in (build_file(build_id), Path(f"{build_file(build_id)}.wal"),
                 record_file(build_id), log_file(build_id)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    shutil.rmtree(builds_dir() / f"{build_id}.dbt", ignore_errors=True)
