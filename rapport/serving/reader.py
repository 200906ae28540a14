"""Read-only access to the served warehouse file.

Facts this module is built on (found by trying, with DuckDB 2.0):
- the publish step replaces the served file with os.replace, so a new build is a new inode;
- inside one process DuckDB reuses the open database instance per path: while any connection
  to the old file is open, connect(path) still returns the old data. So connections here are
  short-lived (one per page render, closed after it), and a process-wide gate lets
  connections to a newer file open only once every connection to the older one is closed.

A `Reader` is made per page render. It notes the file's identity (inode, mtime, size) when it
is made; query results are cached under that identity, so a new publish is picked up by the
next render without a restart, and stale results are never served under the new identity.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import duckdb
import polars as pl

log = logging.getLogger(__name__)

# Hardening: the dashboard only reads tables of the warehouse file. No file access from SQL
# (read_csv, attach, copy), no extension loading, and settings cannot be changed afterwards.
_CONNECT_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}


class WarehouseError(Exception):
    """A problem a viewer can be told about. `user_message` holds no SQL and no file path."""

    user_message = "The warehouse could not be read."

    def __init__(self, user_message: str | None = None, *, detail: str = "") -> None:
        if user_message:
            self.user_message = user_message
        super().__init__(detail or self.user_message)


class WarehouseMissing(WarehouseError):
    """Nothing is served. When builds were attempted, `user_message` tells about the latest
    one (in red when it was refused, with its failed checks and quarantine reasons: see
    rapport.serving.builds.nothing_served_message), `pointer_message` says the same in one
    line for pages other than Data quality, and `builds_folder` is where the records are."""

    user_message = (
        "No warehouse has been published yet. Build one with `rapport build` "
        "(or `make demo` for demo data); this page reads it as soon as it exists."
    )
    pointer_message = user_message
    builds_folder: str | None = None


class WarehouseUnavailable(WarehouseError):
    user_message = (
        "The warehouse file could not be opened (it may be damaged or locked by a writer). "
        "Publish a good build again with `rapport build` or `rapport rollback`."
    )


class WarehouseChanged(WarehouseError):
    user_message = "A new build was published while this page was loading; reload the page."


class MissingRelation(WarehouseError):
    """A table the dashboard reads is absent: the warehouse is older or incomplete."""

    def __init__(self, relation: str, *, detail: str = "") -> None:
        self.relation = relation
        super().__init__(
            f"The warehouse has no table `{relation}`: it was built by an older or incomplete "
            "pipeline. Rebuild it with `rapport build`.",
            detail=detail,
        )


@dataclass(frozen=True)
class WarehouseIdentity:
    """Which file version a result came from: a publish changes inode and mtime."""

    path: str
    inode: int
    mtime_ns: int
    size: int

    def key(self) -> tuple[str, int, int, int]:
        return (self.path, self.inode, self.mtime_ns, self.size)


def identify(path: str | os.PathLike[str]) -> WarehouseIdentity:
    """The identity of the warehouse file now; raises WarehouseMissing if there is none."""
    resolved = str(Path(path).resolve())
    try:
        st = os.stat(resolved)
    except FileNotFoundError as exc:
        from rapport.serving.builds import builds_folder, nothing_served_message

        full, pointer = nothing_served_message(resolved), nothing_served_message(
            resolved, pointer=True)
        missing = WarehouseMissing(full, detail=f"no warehouse file at {resolved}")
        if pointer:
            missing.pointer_message = pointer
            missing.builds_folder = str(builds_folder(resolved))
        raise missing from exc
    return WarehouseIdentity(resolved, st.st_ino, st.st_mtime_ns, st.st_size)


class _VersionGate:
    """Lets any number of connections to one file version be open, never two versions."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._current: tuple[str, int, int, int] | None = None
        self._open = 0

    @contextmanager
    def hold(self, identity: WarehouseIdentity, timeout: float = 30.0) -> Iterator[None]:
        key = identity.key()
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._open == 0 or self._current == key, timeout=timeout
            )
            if not ok:
                raise WarehouseUnavailable(detail="timed out waiting for older readers to close")
            self._current = key
            self._open += 1
        try:
            yield
        finally:
            with self._cond:
                self._open -= 1
                if self._open == 0:
                    self._current = None
                    self._cond.notify_all()


_GATE = _VersionGate()

# cache(reader, identity_key, scope_key, sql, params) -> DataFrame, where params are
# (name, value) pairs; the hook calls reader.run(sql, params) on a miss. See Reader.fetch.
CacheHook = Callable[["Reader", tuple, str, str, tuple], pl.DataFrame]

_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")


class Reader:
    """One page render's read-only view of the served warehouse.

    Use as a context manager (or call close()): the DuckDB connection is opened on the first
    query that misses the cache and closed at the end of the render.
    """

    def __init__(self, path: str | os.PathLike[str], *, cache: CacheHook | None = None) -> None:
        self.identity = identify(path)
        self._cache = cache
        self._con: duckdb.DuckDBPyConnection | None = None
        self._gate_cm: Any = None
        self.queries_run = 0  # statements executed against the file (cache misses)

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            try:
                con.close()
            finally:
                gate_cm, self._gate_cm = self._gate_cm, None
                gate_cm.__exit__(None, None, None)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is not None:
            return self._con
        gate_cm = _GATE.hold(self.identity)
        gate_cm.__enter__()
        try:
            con = duckdb.connect(self.identity.path, read_only=True, config=_CONNECT_CONFIG)
        except duckdb.Error as exc:
            gate_cm.__exit__(None, None, None)
            if not os.path.exists(self.identity.path):
                raise WarehouseChanged(detail=str(exc)) from exc
            raise WarehouseUnavailable(detail=str(exc)) from exc
        # The file may have been replaced between identify() and connect(): then this
        # connection shows a newer build than the identity the results are cached under.
        try:
            now = identify(self.identity.path)
        except WarehouseMissing:
            now = None
        if now != self.identity:
            con.close()
            gate_cm.__exit__(None, None, None)
            raise WarehouseChanged(detail="served file replaced during the render")
        self._con, self._gate_cm = con, gate_cm
        return con

    # -- queries ---------------------------------------------------------------------------
    def fetch(self, sql: str, params: Mapping[str, Any], scope_key: str) -> pl.DataFrame:
        """Run a query with named parameters ($name), through the cache when there is one.

        scope_key is part of the cache key: results for one scope are never served to another,
        even when the SQL text and parameters happen to be equal.
        """
        items = tuple(sorted(params.items()))
        if self._cache is not None:
            return self._cache(self, self.identity.key(), scope_key, sql, items)
        return self.run(sql, items)

    def run(self, sql: str, params: tuple[tuple[str, Any], ...] = ()) -> pl.DataFrame:
        """Run a query against the file, uncached. Values only through `params`
        ((name, value) pairs for the statement's $name placeholders)."""
        con = self._connection()
        self.queries_run += 1
        try:
            relation = con.sql(sql, params=dict(params))
            if relation is None:
                return pl.DataFrame()
            return relation.pl()
        except duckdb.CatalogException as exc:
            match = _MISSING_TABLE.search(str(exc))
            raise MissingRelation(match.group(1) if match else "?", detail=str(exc)) from exc
        except duckdb.Error as exc:
            log.exception("query failed")
            raise WarehouseError(
                "A query on the warehouse failed; the error was logged for the data team.",
                detail=str(exc),
            ) from exc
