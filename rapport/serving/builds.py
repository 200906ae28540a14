"""Build attempts: what `rapport build` tried lately, published or not.

A refused build is never served, so the served warehouse cannot tell about it. This module
reads, read-only, what a refused build leaves beside the served file:

- the build records `builds/<build_id>.json` (status, times, one-line summary), and
- the kept file of a failed build, `builds/<build_id>.duckdb`: its failed checks
  (meta.dq_results) and its quarantined rows per table and reason (meta.dq_quarantine).

The folder is the one beside the served file (`<served>/../builds`), so a dashboard pointed
at another warehouse with RAPPORT_WAREHOUSE reads that warehouse's builds. Kept files are
opened read-only, one short connection each, only for finished failed builds, and what was
read is kept in memory under the file's identity. Used by `rapport build` (the console
report of a refused build), the Data quality page and the "nothing is served yet" message.
No Streamlit import here; nothing here raises: an unreadable record or file is reported as
such.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

# Statuses of a build that was not published (rapport.pipeline.publish.FAILED_STATUSES without
# rolled_back, which was a good build).
REFUSED_STATUSES = ("checks_failed", "structural_error", "error", "interrupted")
STATUS_TEXT = {
    "passed": "passed (published)",
    "rolled_back": "passed, later rolled back",
    "checks_failed": "refused: blocking checks failed",
    "structural_error": "refused: the input could not be read",
    "error": "stopped on an error",
    "interrupted": "interrupted",
    "running": "running",
}
_REASONS = ("missing_required", "unparseable", "not_allowed", "out_of_range",
            "impossible_value", "orphan_fk", "duplicate_key")
_ID = re.compile(r"^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{4}$")
_ABS_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:;,'\"()]+/)+([^\s/:;,'\"()]+)")


@dataclass(frozen=True)
class FailedCheck:
    suite: str
    expectation: str
    column: str | None
    status: str
    observed_value: str | None
    unexpected_count: int | None

    def text(self) -> str:
        where = f"{self.suite} / {self.expectation}" + (f" [{self.column}]" if self.column
                                                         else "")
        bits = [f"{self.status.upper()} {where}"]
        if self.observed_value is not None:
            bits.append(f"observed {_short(self.observed_value, 80)}")
        if self.unexpected_count:
            bits.append(f"{self.unexpected_count:,} unexpected")
        return "; ".join(bits)


@dataclass(frozen=True)
class QuarantineReason:
    table_name: str
    reason: str
    rows: int
    columns: tuple[str, ...] = ()  # the columns the gate named for this reason, most first

    def text(self) -> str:
        cols = f" ({', '.join(self.columns[:3])})" if self.columns else ""
        return f"{self.reason}{cols} {self.rows:,}"


@dataclass(frozen=True)
class TableCount:
    table_name: str
    raw_rows: int
    quarantined_rows: int

    @property
    def share(self) -> float:
        return self.quarantined_rows / self.raw_rows if self.raw_rows else 0.0


@dataclass(frozen=True)
class Attempt:
    """One build record, with what its kept file says when it was refused."""

    build_id: str
    status: str
    started_at: str | None = None
    finished_at: str | None = None
    as_of_date: str | None = None
    summary: str = ""
    kept_file: str | None = None  # "builds/<build_id>.duckdb" when the file is still there
    failed_checks: tuple[FailedCheck, ...] = ()
    quarantine: tuple[QuarantineReason, ...] = ()
    row_counts: tuple[TableCount, ...] = ()
    detail_note: str = ""  # why the kept file could not be read, when it could not

    @property
    def refused(self) -> bool:
        return self.status in REFUSED_STATUSES

    @property
    def published(self) -> bool:
        return self.status in ("passed", "rolled_back")

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status)

    @property
    def quarantined_rows(self) -> int:
        return sum(c.quarantined_rows for c in self.row_counts)

    def top_reasons(self, per_table: int = 3) -> list[tuple[TableCount | None, list[
            QuarantineReason]]]:
        """Per table (most quarantined rows first): its counts and its top reasons."""
        by_table: dict[str, list[QuarantineReason]] = {}
        for r in self.quarantine:
            by_table.setdefault(r.table_name, []).append(r)
        counts = {c.table_name: c for c in self.row_counts}

        def weight(name: str) -> tuple:
            c = counts.get(name)
            return (-(c.quarantined_rows if c else sum(r.rows for r in by_table[name])), name)

        return [(counts.get(name), sorted(by_table[name], key=lambda r: (-r.rows, r.reason))
                 [:per_table]) for name in sorted(by_table, key=weight)]

    def report_lines(self, per_table: int = 3, max_tables: int = 8,
                     max_checks: int = 10, checks: bool = True) -> list[str]:
        """Plain-text lines: the failed checks, then the top quarantine reasons per table."""
        lines: list[str] = []
        if checks and self.failed_checks:
            lines.append("failed checks:")
            lines += [f"  {c.text()}" for c in self.failed_checks[:max_checks]]
            if len(self.failed_checks) > max_checks:
                lines.append(f"  ... and {len(self.failed_checks) - max_checks} more")
        tables = self.top_reasons(per_table)
        if tables:
            lines.append("top quarantine reasons per table (rows; a row with two reasons "
                         "counts under both):")
            for count, reasons in tables[:max_tables]:
                name = count.table_name if count else reasons[0].table_name
                head = (f"{name}: {count.quarantined_rows:,} of {count.raw_rows:,} rows "
                        f"quarantined ({count.share:.1%})" if count else f"{name}:")
                lines.append(f"  {head}: " + ", ".join(r.text() for r in reasons))
            if len(tables) > max_tables:
                lines.append(f"  ... and {len(tables) - max_tables} more tables")
        elif self.refused and self.kept_file and not self.detail_note:
            lines.append("no row was quarantined")
        if self.detail_note:
            lines.append(self.detail_note)
        return lines


def builds_folder(served: str | os.PathLike[str]) -> Path:
    """The builds folder beside a served warehouse file."""
    return Path(served).parent / "builds"


def _read_record(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def attempts(folder: str | os.PathLike[str], limit: int = 20,
             details_for: int = 3) -> list[Attempt]:
    """The latest build records, newest first; the `details_for` newest refused ones carry
    their failed checks and quarantine reasons (from their kept files)."""
    folder = Path(folder)
    try:
        names = sorted((p for p in folder.glob("*.json") if _ID.match(p.stem)), reverse=True)
    except OSError:
        return []
    found: list[Attempt] = []
    detailed = 0
    for path in names[:limit]:
        data = _read_record(path)
        if data is None:
            continue
        build_id = path.stem
        status = str(data.get("status") or "unknown")
        kept = folder / f"{build_id}.duckdb"
        attempt = Attempt(
            build_id=build_id, status=status,
            started_at=_text(data.get("started_at")), finished_at=_text(data.get("finished_at")),
            as_of_date=_text(data.get("as_of_date")),
            summary=strip_paths(str(data.get("summary") or "")),
            kept_file=f"builds/{build_id}.duckdb" if kept.exists() else None,
        )
        if attempt.refused and detailed < details_for and kept.exists():
            detailed += 1
            attempt = _with_details(attempt, kept)
        found.append(attempt)
    return found


def latest(folder: str | os.PathLike[str]) -> Attempt | None:
    found = attempts(folder, limit=1)
    return found[0] if found else None


def details(attempt: Attempt, kept: Path) -> Attempt:
    """The attempt with what its kept file says (used by `rapport build` for its own file)."""
    return _with_details(attempt, kept)


# --------------------------------------------------------------------------- kept files

_CACHE: dict[tuple, tuple] = {}
_CACHE_LOCK = threading.Lock()


def _with_details(attempt: Attempt, kept: Path) -> Attempt:
    try:
        st = kept.stat()
    except OSError:
        return attempt
    key = (str(kept.resolve()), st.st_ino, st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is None:
        hit = _read_kept(kept)
        if not hit[3]:  # a read error may be passing (a writer holds it): do not keep it
            with _CACHE_LOCK:
                if len(_CACHE) > 64:
                    _CACHE.clear()
                _CACHE[key] = hit
    checks, reasons, counts, note = hit
    return replace(attempt, failed_checks=checks, quarantine=reasons, row_counts=counts,
                   detail_note=note)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'meta'"
    ).fetchall()}


def _read_kept(path: Path) -> tuple:
    codes = "|".join(_REASONS)
    try:
        con = duckdb.connect(str(path), read_only=True,
                             config={"enable_external_access": False})
    except duckdb.Error as exc:
        return (), (), (), f"its kept file could not be read ({_first_line(exc)})"
    try:
        present = _tables(con)
        checks: tuple[FailedCheck, ...] = ()
        if "dq_results" in present:
            checks = tuple(FailedCheck(s, e, c, st, _no_examples(o), n)
                           for s, e, c, st, o, n in con.execute(
                """select suite, expectation, "column", status, observed_value,
                          unexpected_count
                   from meta.dq_results where status in ('fail', 'error')
                   order by case status when 'error' then 1 else 2 end, suite, expectation,
                            "column" """).fetchall())
        reasons: tuple[QuarantineReason, ...] = ()
        if "dq_quarantine" in present:
            rows = con.execute(
                f"""
                with reasons as (
                    select table_name, trim(r.reason) as reason, detail
                    from meta.dq_quarantine,
                        unnest(string_split(reasons, ',')) as r(reason)
                ),
                counted as (
                    select table_name, reason, count(*) as n
                    from reasons where reason <> '' group by all
                ),
                named as (
                    select table_name, split_part(pair, ':', 1) as reason,
                        split_part(pair, ':', 2) as column_name, count(*) as n
                    from (
                        select table_name,
                            unnest(regexp_extract_all(coalesce(detail, ''),
                                '(?:^|; )((?:{codes}):[a-z_][a-z0-9_]*)=', 1)) as pair
                        from meta.dq_quarantine
                    )
                    group by all
                )
                select counted.table_name, counted.reason, counted.n,
                    coalesce(list(named.column_name order by named.n desc, named.column_name)
                             filter (where named.column_name is not null), [])
                from counted
                left join named
                    on named.table_name = counted.table_name and named.reason = counted.reason
                group by counted.table_name, counted.reason, counted.n
                order by counted.n desc, counted.table_name, counted.reason
                """).fetchall()
            reasons = tuple(QuarantineReason(t, r, int(n), tuple(cols or ()))
                            for t, r, n, cols in rows)
        counts: tuple[TableCount, ...] = ()
        if "dq_row_counts" in present:
            counts = tuple(TableCount(t, int(raw or 0), int(q or 0)) for t, raw, q in
                           con.execute("""select table_name, raw_rows, quarantined_rows
                                          from meta.dq_row_counts
                                          where quarantined_rows > 0
                                          order by quarantined_rows desc""").fetchall())
        return checks, reasons, counts, ""
    except duckdb.Error as exc:
        return (), (), (), f"its kept file could not be read ({_first_line(exc)})"
    finally:
        con.close()


# --------------------------------------------------------------------------- text


def strip_paths(text: str) -> str:
    """Absolute paths in a record's summary reduced to their file name (a message for
    viewers names no server path)."""
    return _ABS_PATH.sub(lambda m: m.group(1), text)


def _no_examples(observed: str | None) -> str | None:
    """An observed value without the examples GX quotes ("3 of 120 unexpected, e.g. [...]"
    -> "3 of 120 unexpected"): they may be personal values, and these reports have no
    viewer scope."""
    if observed is None:
        return None
    cut = observed.find(", e.g. ")
    return observed if cut < 0 else observed[:cut]


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _short(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 3] + "..."


def _first_line(exc: BaseException) -> str:
    return strip_paths(str(exc).strip().splitlines()[0] if str(exc).strip() else
                       type(exc).__name__)[:200]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:])")


def md(text: str) -> str:
    """Text escaped for Streamlit markdown (no formatting, links or colour directives)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))


def nothing_served_message(served: str | os.PathLike[str], pointer: bool = False
                           ) -> str | None:
    """Markdown for a viewer when no warehouse is served but builds were attempted: the
    latest attempt, in red when refused, with its failed checks and top quarantine reasons
    (pointer=True: one paragraph that points to the Data quality page instead). None when
    there is no build record (or anything goes wrong reading them)."""
    try:
        found = attempts(builds_folder(served), limit=5, details_for=0 if pointer else 1)
    except Exception:  # noqa: BLE001 - the plain "nothing published" message is shown then
        return None
    if not found:
        return None
    last = found[0]
    if pointer:
        when = f", finished {md(last.finished_at)} UTC," if last.finished_at else ""
        state = (f":red[**{md(last.status_text)}**]" if last.refused
                 else md(last.status_text))
        return ("**Nothing is served yet**: no build has been published. The latest build"
                f"{when} was {state}; the **Data quality** page shows why, with its failed "
                "checks and quarantine reasons.")
    out = [("**Nothing is served yet**: no build has been published, so there is nothing "
            "to show here.")]
    when = f" (finished {md(last.finished_at)} UTC)" if last.finished_at else ""
    if last.refused:
        out.append(f"The latest build, {md(last.build_id)}{when}, was "
                   f":red[**{md(last.status_text)}**]. Fix what is listed below in the input "
                   "and run `rapport build` again; once a build is published, the **Data "
                   "quality** page lists every refused build with its checks and quarantine "
                   "reasons.")
        body = [f"- {md(line.strip())}" if line.startswith("  ") else f"\n{md(line)}"
                for line in last.report_lines(per_table=3, max_tables=6, max_checks=6)]
        if body:
            out.append("\n".join(body))
        if last.kept_file:
            out.append(f"The refused build is kept for inspection as "
                       f"`{last.kept_file}` in the warehouse folder.")
    else:
        out.append(f"The latest build, {md(last.build_id)}{when}, is "
                   f"{md(last.status_text)}. Build one with `rapport build` (or `make demo` "
                   "for demo data); this page reads it as soon as it exists.")
    refused = [a for a in found[1:] if a.refused]
    if refused:
        out.append("Earlier refused builds: " + ", ".join(
            f":red[{md(a.build_id)}] ({md(a.status_text)})" for a in refused) + ".")
    return "\n\n".join(out)
