"""Column builders (numpy -> polars) and the table writer (CSV or Parquet, byte-stable)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from rapport.contract import contract

FORMATS = ("csv", "parquet")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _nullify(s: pl.Series, missing: np.ndarray | None) -> pl.Series:
    if missing is None or not missing.any():
        return s
    return pl.select(pl.when(pl.lit(pl.Series(missing))).then(pl.lit(None, dtype=s.dtype))
                     .otherwise(pl.lit(s))).to_series().alias(s.name)


def ids(prefix: str, num: np.ndarray, width: int) -> pl.Series:
    """Identifiers like ACC00042 from numbers; negative numbers become missing."""
    num = np.asarray(num, dtype=np.int64)
    if num.size and num.max() >= 10**width:
        raise ValueError(f"identifier {prefix}{num.max()} does not fit in {width} digits")
    padded = pl.Series(np.maximum(num, 0) + 10**width).cast(pl.String)  # "1" + digits
    s = pl.select(pl.lit(prefix) + pl.lit(padded).str.slice(1)).to_series()
    return _nullify(s, num < 0)


def id_width(n: int) -> int:
    return max(4, len(str(max(n, 1))))


def texts(values: Sequence[str], idx: np.ndarray) -> pl.Series:
    """values[idx]; negative idx becomes missing."""
    idx = np.asarray(idx, dtype=np.int64)
    s = pl.Series(list(values), dtype=pl.String).gather(np.maximum(idx, 0))
    return _nullify(s, idx < 0)


def dates(days: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)
    return _nullify(s, missing)


def timestamps(seconds: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    micros = np.asarray(seconds, dtype=np.int64) * 1_000_000
    s = pl.Series(micros).cast(pl.Datetime("us"))
    return _nullify(s, missing)


def decimals(scaled: np.ndarray, scale: int, missing: np.ndarray | None = None,
             precision: int = 18) -> pl.Series:
    """Integers holding value * 10**scale (cents, basis points) as exact decimals."""
    scaled = np.asarray(scaled, dtype=np.int64)
    if missing is not None:
        scaled = np.where(missing, 0, scaled)
    values = scaled.astype(np.float64) / 10**scale
    s = pl.Series(values).cast(pl.Decimal(precision, scale))
    return _nullify(s, missing)


def integers(values: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    return _nullify(pl.Series(np.asarray(values, dtype=np.int64)), missing)


def booleans(tri: np.ndarray) -> pl.Series:
    """1 true, 0 false, -1 missing."""
    tri = np.asarray(tri)
    return _nullify(pl.Series(tri == 1), tri < 0)


def frame(table: str, columns: dict[str, pl.Series]) -> pl.DataFrame:
    """A frame with exactly the contract's columns of `table`, in contract order."""
    expected = list(contract().tables[table].columns)
    if list(columns) != expected:
        raise RuntimeError(f"generator bug: {table} columns {list(columns)} != contract "
                           f"{expected}")
    return pl.DataFrame({name: s.alias(name) for name, s in columns.items()})


class Progress:
    """Short progress lines on stderr: simulation steps, then one line per table written
    (and per chunk of a big table). Safe to use from two threads."""

    def __init__(self, enabled: bool, total_tables: int) -> None:
        self.enabled = enabled
        self.total = total_tables
        self.done = 0
        self.t0 = time.perf_counter()
        self.lock = threading.Lock()

    def _print(self, message: str) -> None:
        with self.lock:
            print(f"  {message:<58} {time.perf_counter() - self.t0:6.1f}s", file=sys.stderr,
                  flush=True)

    def step(self, message: str) -> None:
        if self.enabled:
            self._print(message)

    def partial(self, table: str, rows: int, total_rows: int) -> None:
        if self.enabled and 0 < rows < total_rows:
            self._print(f"        {table:<22} {rows:>11,} of {total_rows:,} rows "
                        f"({100 * rows // total_rows}%)")

    def table_done(self, table: str, rows: int) -> None:
        with self.lock:
            self.done += 1
            done = self.done
        if self.enabled:
            self._print(f"[{done:2d}/{self.total}] {table:<22} {rows:>11,} rows")


_TIMES = pl.Series([f"{h:02d}:{m:02d}:{x:02d}" for h in range(24) for m in range(60)
                    for x in range(60)], dtype=pl.String)


def _text_timestamps(df: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as 'YYYY-MM-DD HH:MM:SS' text, by table look-ups (faster than strftime)."""
    stamps = [c for c, t in df.schema.items() if isinstance(t, pl.Datetime)]
    if not stamps or df.height == 0:
        return df
    out = {}
    for name in stamps:
        micros = df[name].cast(pl.Int64)
        days = micros // (86_400 * 1_000_000)
        lo, hi = days.min(), days.max()
        if lo is None:
            out[name] = pl.Series(name, [None] * df.height, dtype=pl.String)
            continue
        day_text = pl.Series(np.arange(lo, hi + 1, dtype=np.int32)).cast(pl.Date).cast(pl.String)
        seconds = (micros - days * 86_400 * 1_000_000) // 1_000_000
        out[name] = pl.select(pl.concat_str([
            pl.lit(day_text.gather(days - lo)), pl.lit(" "), pl.lit(_TIMES.gather(seconds))])
        ).to_series().alias(name)
    return df.with_columns(**out)


def _arrow(df: pl.DataFrame) -> pa.Table:
    table = df.to_arrow()
    fields = [pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type)
              or pa.types.is_string_view(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields))


def write_table(out_dir: Path, name: str, chunks: Iterable[pl.DataFrame], fmt: str,
                total_rows: int, progress: Progress) -> int:
    """Write one table from its chunks (same columns each) atomically; return rows written."""
    final = out_dir / f"{name}.{fmt}"
    tmp = out_dir / f".{name}.{fmt}.tmp"
    rows = 0
    # the next chunk is built (numpy, main thread) while this one is written (polars/arrow
    # threads); chunks are written strictly in order, so the file is the same every time
    with ThreadPoolExecutor(max_workers=1) as pool:
        if fmt == "csv":
            with tmp.open("wb") as handle:
                pending = None
                for i, df in enumerate(chunks):
                    if pending is not None:
                        pending.result()
                    df = _text_timestamps(df)
                    pending = pool.submit(
                        df.write_csv, handle, include_header=i == 0,
                        datetime_format=TIMESTAMP_FORMAT, date_format="%Y-%m-%d",
                        null_value="", line_terminator="\n")
                    rows += df.height
                    progress.partial(name, rows, total_rows)
                if pending is not None:
                    pending.result()
        else:
            writer = None
            pending = None
            try:
                for df in chunks:
                    table = _arrow(df)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(writer.write_table, table, row_group_size=1_000_000)
                    rows += df.height
                    progress.partial(name, rows, total_rows)
                if pending is not None:
                    pending.result()
            finally:
                if writer is not None:
                    writer.close()
    os.replace(tmp, final)
    progress.table_done(name, rows)
    return rows
