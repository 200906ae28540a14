"""What the build's data covers: meta.coverage and meta.layers.

The build writes, in every warehouse since coverage was recorded:
- `meta.coverage`: table_name, column_name, table_present, table_rows, column_present,
  filled_rows, filled_share (one row per contract column);
- `meta.layers`: layer, available, needs, reason (one row per layer the pages show:
  relationship_health, power_map, key_actions, profit, ...).

A warehouse built before has neither table: then every layer counts as available (the old
pipeline refused a build without them) and the coverage is unknown. Layer names are matched
loosely (case, spaces, hyphens, a plural `s`, a few aliases), as the build may name them
slightly differently. These tables hold no region-level rows: the scope does not filter them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from rapport.serving.queries._base import Sql, fetch
from rapport.serving.queries.options import columns_of
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

# layer asked for -> names the build may use for it (normalised, see _norm)
LAYER_ALIASES: dict[str, tuple[str, ...]] = {
    "relationship_health": ("relationship_health", "health", "relationships",
                            "relationship"),
    "power_map": ("power_map", "power_maps", "powermap", "decision_roles"),
    "key_actions": ("key_actions", "key_action", "scorecard_key_actions", "dimension_2"),
    "profit": ("profit", "profits", "margin", "margins", "profit_margin"),
    "contacts": ("contacts", "contact"),
    "activities": ("activities", "interactions", "activity"),
}


def _norm(name: object) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", str(name or "").strip().lower()).strip("_")
    return text


@dataclass(frozen=True)
class Layer:
    name: str
    available: bool = True
    needs: str = ""
    reason: str = ""
    recorded: bool = False  # False: no meta.layers row (an older warehouse, or not named)

    def message(self, what: str) -> str:
        """'<what> needs interactions and contacts: see docs/import.md' (+ the reason)."""
        needs = self.needs or "more input tables"
        text = f"{what} needs {needs}: see docs/import.md."
        if self.reason:
            text += f" ({self.reason.rstrip('.')}.)"
        return text


@dataclass(frozen=True)
class Layers:
    rows: tuple[Layer, ...] = ()

    @property
    def recorded(self) -> bool:
        return bool(self.rows)

    def get(self, name: str) -> Layer:
        wanted = {_norm(name)}
        for key, aliases in LAYER_ALIASES.items():
            group = {_norm(key), *(_norm(a) for a in aliases)}
            if wanted & group:
                wanted |= group
        for row in self.rows:
            if _norm(row.name) in wanted:
                return row
        return Layer(name)

    def available(self, name: str) -> bool:
        return self.get(name).available

    def unavailable(self) -> list[Layer]:
        return [row for row in self.rows if not row.available]


def layers(reader: Reader, scope: Scope) -> Layers:
    """meta.layers of the served build (an empty Layers when the table is absent: every
    layer available)."""
    cols = columns_of(reader, scope, "meta.layers")
    if not cols or "layer" not in cols:
        return Layers()
    pick = ", ".join(
        (f'"{c}"' if c in cols else f"null as {c}") for c in ("available", "needs", "reason"))
    sql = f"select layer, {pick} from meta.layers order by layer"
    df = fetch(reader, scope, sql, Sql())
    rows = []
    for row in df.iter_rows(named=True):
        available = row["available"]
        if isinstance(available, str):
            available = available.strip().lower() in ("true", "t", "yes", "1")
        rows.append(Layer(str(row["layer"]), available is not False,
                          _as_needs(row["needs"]), str(row["reason"] or ""), recorded=True))
    return Layers(tuple(rows))


def _as_needs(value: object) -> str:
    """What a layer needs, as text: ['interactions', 'contacts'] -> 'interactions and
    contacts'; a text is kept as it is."""
    if value is None:
        return ""
    if not isinstance(value, list | tuple):
        return str(value).strip()
    items = [str(i).strip() for i in value if str(i).strip()]
    if len(items) <= 1:
        return items[0] if items else ""
    return ", ".join(items[:-1]) + " and " + items[-1]


def coverage(reader: Reader, scope: Scope) -> pl.DataFrame:
    """meta.coverage of the served build, one row per table and column (empty when the
    warehouse has no coverage table)."""
    cols = columns_of(reader, scope, "meta.coverage")
    if not cols or not {"table_name", "column_name"} <= set(cols):
        return pl.DataFrame()
    order = [c for c in ("table_name", "column_name") if c in cols]
    sql = f"select * from meta.coverage order by {', '.join(order)}"
    return fetch(reader, scope, sql, Sql())


def tables_present(cov: pl.DataFrame) -> tuple[list[str], list[str]]:
    """(tables with rows, tables absent or empty), from meta.coverage rows."""
    if cov.is_empty() or "table_name" not in cov.columns:
        return [], []
    agg = [pl.len().alias("n")]
    if "table_present" in cov.columns:
        agg.append(pl.col("table_present").cast(pl.Boolean).fill_null(False).any()
                   .alias("present"))
    if "table_rows" in cov.columns:
        agg.append(pl.col("table_rows").fill_null(0).max().alias("rows"))
    per = cov.group_by("table_name", maintain_order=True).agg(agg).sort("table_name")
    has, missing = [], []
    for row in per.iter_rows(named=True):
        ok = row.get("present", True) and (row.get("rows") is None or row["rows"] > 0)
        (has if ok else missing).append(row["table_name"])
    return has, missing


def incomplete_columns(cov: pl.DataFrame) -> pl.DataFrame:
    """Columns of present tables that some rows leave blank: table_name, column_name,
    table_rows, filled_rows, blank_rows, filled_share; most blank rows first."""
    need = {"table_name", "column_name", "table_rows", "filled_rows"}
    if cov.is_empty() or not need <= set(cov.columns):
        return pl.DataFrame()
    df = cov
    if "column_present" in df.columns:
        df = df.filter(pl.col("column_present").cast(pl.Boolean).fill_null(False))
    if "table_present" in df.columns:
        df = df.filter(pl.col("table_present").cast(pl.Boolean).fill_null(False))
    df = df.filter(pl.col("table_rows").fill_null(0) > 0).with_columns(
        (pl.col("table_rows") - pl.col("filled_rows").fill_null(0)).alias("blank_rows"))
    share = (pl.col("filled_share") if "filled_share" in df.columns
             else pl.col("filled_rows") / pl.col("table_rows"))
    return (df.filter(pl.col("blank_rows") > 0)
            .select("table_name", "column_name", "table_rows", "filled_rows", "blank_rows",
                    share.alias("filled_share"))
            .sort(["blank_rows", "table_name", "column_name"], descending=[True, False, False]))


def missing_columns(cov: pl.DataFrame) -> pl.DataFrame:
    """Columns absent from tables that are present: table_name, column_name."""
    if cov.is_empty() or not {"table_name", "column_name", "column_present"} <= set(cov.columns):
        return pl.DataFrame()
    df = cov
    if "table_present" in df.columns:
        df = df.filter(pl.col("table_present").cast(pl.Boolean).fill_null(False))
    return (df.filter(~pl.col("column_present").cast(pl.Boolean).fill_null(False))
            .select("table_name", "column_name"))


def without_profit(reader: Reader, scope: Scope, df: pl.DataFrame) -> pl.DataFrame:
    """The frame with every profit column (profit, profit_per_head, profit growth and target
    completion...) null when the build has no margin data (layer `profit` unavailable):
    profit is then "not available", never 0."""
    if df.is_empty() or layers(reader, scope).available("profit"):
        return df
    cols = [c for c in df.columns if c.startswith("profit") or "_profit" in c]
    return df.with_columns(pl.lit(None, dtype=df.schema[c]).alias(c) for c in cols)


def incomplete_rows(reader: Reader, scope: Scope, table_name: str, columns: list[str],
                    limit: int = 500) -> pl.DataFrame | None:
    """Clean rows of validated.<table_name> with a blank in one of `columns` (the list for
    the data team: e.g. open deals kept without an account, amount or created date), with
    the `blank` columns named per row. Only for a scope that sees every region (a row
    without an account cannot be placed in a region) and only for tables without personal
    columns (None otherwise); names are checked against the warehouse's own columns, values
    are bound."""
    from rapport.serving.queries.data_quality import pii_columns

    if (not scope.sees_all_regions or table_name in pii_columns()
            or not re.match(r"^[a-z_][a-z0-9_]*$", table_name)):
        return None
    present = columns_of(reader, scope, f"validated.{table_name}")
    if not present:
        return pl.DataFrame()
    chosen = [c for c in columns if c in present]
    if not chosen:
        return pl.DataFrame()
    quoted = [f'"{c}"' for c in chosen]
    blanks = ", ".join(f"case when {c} is null then '{name}' end"
                       for c, name in zip(quoted, chosen, strict=True))
    q = Sql()
    shown = ", ".join(f'"{c}"' for c in present if not c.startswith("_")) or "*"
    source = ", _source_file, _row_number" if {"_source_file", "_row_number"} <= set(
        present) else ""
    order = "_source_file, _row_number" if source else "1"
    sql = f"""
    select concat_ws(', ', {blanks}) as blank, {shown}{source}
    from validated.{table_name}
    where {' or '.join(f'{c} is null' for c in quoted)}
    order by {order}
    limit {q.bind(int(limit))}
    """
    return fetch(reader, scope, sql, q)


def defaults_applied(reader: Reader, scope: Scope) -> pl.DataFrame:
    """meta.defaults_applied: the documented defaults the build put into empty values
    (table_name, column_name, default_rule, rows), most rows first; empty when none was
    used or the warehouse does not record them."""
    cols = columns_of(reader, scope, "meta.defaults_applied")
    if not cols or "rows" not in cols:
        return pl.DataFrame()
    sql = "select * from meta.defaults_applied where rows > 0 order by rows desc, 1, 2"
    return fetch(reader, scope, sql, Sql())
