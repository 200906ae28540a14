"""The benchmark: measure generation, builds, the plain-SQL floor and the dashboard pages.

A development tool of the checkout (not in the wheel), run from the repository root:

    python -m tools.bench --scale bench --runs 3 --out docs/benchmarks.md     (make bench)
    python -m tools.bench --scale 100000 --runs 1 --out /tmp/b.md              (smoke test)

Everything runs in a work folder of its own ($RAPPORT_BENCH_DIR, default
data/bench/<scale>): raw files, a data folder with its own warehouse, logs. The served
warehouse of data/ is never touched. Each figure is the median of `runs` runs, with min and
max. What is measured (docs/benchmarks.md says the same next to the figures):

1. generation: `rapport generate --scale <scale>` (CSV), wall time and peak RSS;
2. full build: `rapport build` as a subprocess (ingest, gate, input checks, dbt build with
   its tests, mart checks, publish), wall time, time per stage (from its progress lines),
   peak RSS (the build and everything it waited for, measured by a fresh launcher
   process: `run_measured`), warehouse size; the ten slowest dbt nodes (run_results.json
   of each build, median per node);
3. the floor: the same marts computed by plain DuckDB SQL without dbt, in one connection:
   the raw files read into typed tables (no quarantine), the seeds copied, then every model's
   SQL as `dbt compile` renders it (compiled once, not timed), in dependency order, as
   `create table/view ... as`. The ratio build / floor says what the pipeline costs on top
   of the SQL itself;
4. incremental: the raw interactions are cut before their last day, a full build of that is
   served (not timed), the last day is appended again and `rapport build --incremental` is
   timed; between runs `rapport rollback` serves the base again. Its marts are compared with
   the full build of the same files;
5. pages: `rapport serve` on the final warehouse and Debian's chromium through Playwright.
   Cold: the app's query cache is emptied (the cache is keyed on the warehouse file's
   identity, so touching its mtime empties it) and the page is opened from the sidebar, until
   its title, its charts and no running script or status widget. Filter change: the page is
   opened afresh (a new session, no region picked, its data cached), then one region is
   picked in the sidebar (another region for each page, so its results are not cached),
   until the script run it starts has finished.

Growth (after the full builds, before the floor): one full build at each of a few sizes, so
the growth curve of build time and peak memory is visible (target: time per interaction
linear or better, DuckDB's memory limit held). Each size is generated (`rapport generate
--scale <n>`, not timed) into its own sub-folder of the work folder (growth/<n>: raw files,
data folder), built once by `rapport build` as a subprocess (wall time, peak RSS, served
warehouse size) and the sub-folder is removed afterwards (its logs stay in logs/). A size
equal to the bench's own dataset reuses the full build's figures (median) instead of building
again. Sizes: at scale bench 1,000,000, 3,000,000 and the scale's own 10,000,000; at any
other scale about 10 %, 30 % and 100 % of its interactions. RAPPORT_BENCH_GROWTH_SIZES
overrides them: comma-separated interaction counts (`1000000,3000000`) or `off`. The
builds' DuckDB memory limit is RAPPORT_DUCKDB_MEMORY_LIMIT (rapport/paths.py, default 2GB);
the report records it. A build that fails at a size is reported failed with its exit code;
the bench goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from rapport.contract import SQL_TYPES
from rapport.pages import PAGES as REGISTRY
from rapport.paths import PROJECT_ROOT, data_dir, duckdb_memory_limit
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STATUS,
    dashboard_server,
    wait_rendered,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
SEED = 42
BUILD_TIMEOUT = 4 * 3600
_STAGE_DONE = re.compile(r"^\[\s*[\d.]+s\] ([a-z][a-z ]*): done in ([\d.]+) s", re.MULTILINE)
_QUIET = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DO_NOT_TRACK": "1",
          "GX_ANALYTICS_ENABLED": "False", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}

# The dashboard's pages (rapport/pages.py): url path, title, plotly charts drawn on opening.
PAGES = [(page.id, page.title, page.charts) for page in REGISTRY]
_REGION_FILTER = ('[data-testid="stSidebar"] [data-testid="stMultiSelect"]'
                  ':has-text("Region")')
_PAGE_TIMEOUT_MS = 300_000


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and where its log is."""


# --------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One measured quantity over the runs."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(float(value))

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def text(self, unit: str = "s", digits: int = 1) -> str:
        if not self.values:
            return "n/a"
        fmt = f"{{:,.{digits}f}}"
        med = fmt.format(self.median)
        if len(self.values) == 1:
            return f"{med} {unit}"
        return (f"{med} {unit} ({fmt.format(min(self.values))} .. "
                f"{fmt.format(max(self.values))})")


@dataclass
class GrowthPoint:
    """One full build at one size of the growth step."""

    interactions: int
    seconds: float | None = None  # wall time of the full build
    rss_gb: float | None = None  # peak RSS of the build (and what it waited for)
    warehouse_gb: float | None = None  # the served warehouse file after the build
    returncode: int = 0  # of the failed step (generation or build); 0 when it succeeded
    failed_step: str = ""  # "generation" or "build" when it failed
    source: str = "one build"  # or how the figure was reused from the full builds
    log: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.failed_step) or self.returncode != 0

    @property
    def per_million(self) -> float | None:
        """Seconds of full build per million interactions."""
        if self.failed or self.seconds is None or self.interactions <= 0:
            return None
        return self.seconds / (self.interactions / 1e6)


@dataclass
class Report:
    scale: str
    runs: int
    machine: dict[str, Any]
    started: str
    work_dir: str
    sizes: dict[str, int] = field(default_factory=dict)  # rows per table generated
    figures: dict[str, Figure] = field(default_factory=dict)
    loads: dict[str, list[float]] = field(default_factory=dict)  # load average per run start
    stages: dict[str, Figure] = field(default_factory=dict)  # full build stages
    inc_stages: dict[str, Figure] = field(default_factory=dict)
    dbt_nodes: dict[str, Figure] = field(default_factory=dict)  # node -> seconds
    floor_models: dict[str, Figure] = field(default_factory=dict)
    pages: dict[str, dict[str, Figure]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)
    growth: list[GrowthPoint] = field(default_factory=list)  # one full build per size
    memory_limit: str = ""  # the builds' DuckDB memory limit (RAPPORT_DUCKDB_MEMORY_LIMIT)

    def fig(self, name: str) -> Figure:
        return self.figures.setdefault(name, Figure())

    def load(self, name: str) -> None:
        self.loads.setdefault(name, []).append(round(os.getloadavg()[0], 2))


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    from importlib.metadata import version

    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "streamlit"):
        with contextlib.suppress(Exception):
            versions[package] = version(package)
    commit = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(PROJECT_ROOT), "status", "--porcelain",
                            "--untracked-files=no"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return {
        "cores": os.cpu_count(), "memory_bytes": mem, "cpu": cpu,
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "os": platform.platform(),
        "versions": versions, "git_commit": commit + ("+uncommitted" if dirty else ""),
    }


# --------------------------------------------------------------------------- processes


@dataclass
class Run:
    seconds: float
    returncode: int
    max_rss: int  # bytes
    output: str
    log: Path


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAPPORT_WAREHOUSE", "RAPPORT_TEST_PAUSE_AT", "RAPPORT_AS_USER",
                        "RAPPORT_THRESHOLDS", "RAPPORT_VERBOSE")}
    env.update(_QUIET)
    env["RAPPORT_DATA_DIR"] = str(data)
    return env


# The peak RSS of a run is its ru_maxrss, read by the process that waits for it. Linux
# starts a child's ru_maxrss at the high-water mark of the memory the child leaves at exec,
# and Python starts children with vfork, i.e. in this process's memory: a build started
# straight from here reads at least this process's own peak (after the floor step, which runs
# DuckDB in this process, 4.28 GB for an incremental build whose own peak was 2.49 GB). So a
# small launcher, started afresh, starts the command, waits for it and writes its peak RSS.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: Sequence[str], env: dict[str, str], log: Path,
                 timeout: float = BUILD_TIMEOUT) -> Run:
    """Run `python -m rapport.cli <args>`; wall time and peak RSS (ru_maxrss of the process
    and the children it waited for, measured by _LAUNCHER; 0 when the run was killed)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_file = log.with_name(f".{log.name}.peak-rss")
    peak_file.unlink(missing_ok=True)
    command = [sys.executable, "-c", _LAUNCHER, str(peak_file),
               sys.executable, "-m", "rapport.cli", *args]
    with log.open("w") as handle:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
    try:
        max_rss = int(peak_file.read_text())
        peak_file.unlink()
    except (OSError, ValueError):
        max_rss = 0  # killed before the launcher could write it
    return Run(seconds, proc.returncode, max_rss, log.read_text(), log)


def _stages(output: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in _STAGE_DONE.finditer(output)}


def _build_id(output: str) -> str | None:
    found = re.search(r"build (\S+) started", output)
    return found.group(1) if found else None


# --------------------------------------------------------------------------- the work folder


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def served(self) -> Path:
        return self.data / "warehouse" / "rapport.duckdb"

    @property
    def full_copy(self) -> Path:
        return self.root / "full-build.duckdb"

    def builds(self) -> Path:
        return self.data / "warehouse" / "builds"


def workspace(scale: str) -> Workspace:
    root = Path(os.environ.get("RAPPORT_BENCH_DIR") or data_dir() / "bench" / scale)
    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace(root.resolve())
    shutil.rmtree(ws.data, ignore_errors=True)  # a warehouse folder of its own, empty
    shutil.rmtree(ws.logs, ignore_errors=True)
    ws.logs.mkdir(parents=True)
    return ws


def _say(text: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


# --------------------------------------------------------------------------- 1. generation


def bench_generation(ws: Workspace, scale: str, report: Report) -> None:
    for i in range(report.runs):
        report.load("generation")
        run = run_measured(["generate", "--scale", scale, "--seed", str(SEED),
                            "--out", str(ws.raw)], _env(ws.data), ws.logs / f"generate-{i}.log")
        if run.returncode:
            raise BenchError(f"rapport generate failed (exit {run.returncode}); see {run.log}")
        report.fig("generation").add(run.seconds)
        report.fig("generation_rss").add(run.max_rss / 1e9)
        _say(f"generation {i + 1}/{report.runs}: {run.seconds:.1f} s")
    report.sizes = _generated(run.output)
    report.sizes["raw_bytes"] = sum(p.stat().st_size for p in ws.raw.iterdir() if p.is_file())


def _generated(output: str) -> dict[str, int]:
    """Rows per kind from `rapport generate`'s last line ({} when it is not found)."""
    found = re.search(r"wrote (\d+) tables, ([\d,]+) rows \(([\d,]+) interactions, "
                      r"([\d,]+) accounts, ([\d,]+) contacts, ([\d,]+) reps\)", output)
    if not found:
        return {}
    keys = ("tables", "rows", "interactions", "accounts", "contacts", "reps")
    return {k: int(v.replace(",", "")) for k, v in zip(keys, found.groups(), strict=True)}


# --------------------------------------------------------------------------- 2. full builds


def _dbt_node_times(ws: Workspace, build_id: str) -> dict[str, float]:
    path = ws.builds() / f"{build_id}.dbt" / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text())["results"]
    return {r["unique_id"]: float(r["execution_time"]) for r in results}


def _build(ws: Workspace, args: list[str], log_name: str) -> Run:
    run = run_measured(["build", "--raw", str(ws.raw), *args], _env(ws.data),
                       ws.logs / f"{log_name}.log")
    if run.returncode:
        raise BenchError(f"rapport build {' '.join(args)} failed (exit {run.returncode}); "
                         f"see {run.log}")
    return run


def bench_full_builds(ws: Workspace, report: Report) -> tuple[str, str]:
    """Full builds; returns (build id, as-of date) of the last one, whose file is copied
    aside for the floor and the incremental comparison."""
    nodes: dict[str, list[float]] = {}
    build_id = None
    for i in range(report.runs):
        report.load("full build")
        run = _build(ws, [], f"build-full-{i}")
        build_id = _build_id(run.output)
        report.fig("full_build").add(run.seconds)
        report.fig("full_build_rss").add(run.max_rss / 1e9)
        report.fig("warehouse_size").add(ws.served.stat().st_size / 1e9)
        for stage, seconds in _stages(run.output).items():
            report.stages.setdefault(stage, Figure()).add(seconds)
        for node, seconds in _dbt_node_times(ws, build_id or "").items():
            nodes.setdefault(node, []).append(seconds)
        _say(f"full build {i + 1}/{report.runs}: {run.seconds:.1f} s, peak RSS "
             f"{run.max_rss / 1e9:.2f} GB")
    report.dbt_nodes = {n: Figure(v) for n, v in nodes.items()}
    shutil.copyfile(ws.served, ws.full_copy)
    with duckdb.connect(str(ws.full_copy), read_only=True) as con:
        build_id, as_of = con.execute("select build_id, as_of_date from meta.build_info"
                                      ).fetchone()
    return build_id, str(as_of)


# --------------------------------------------------------------------------- 2b. growth


GROWTH_ENV = "RAPPORT_BENCH_GROWTH_SIZES"
BENCH_GROWTH_SIZES = (1_000_000, 3_000_000)  # and the bench scale's own size
GROWTH_FRACTIONS = (0.1, 0.3, 1.0)  # of the scale's interactions, at any other scale


def growth_sizes(scale: Any, setting: str | None = None) -> list[int]:
    """The growth step's sizes (interactions), smallest first. `setting` is
    RAPPORT_BENCH_GROWTH_SIZES: comma-separated counts (`_` allowed), `off` (none) or empty
    (the default for the scale). ValueError on anything else."""
    from rapport.generator.scales import MIN_INTERACTIONS

    text = (setting or "").strip().lower()
    if text == "off":
        return []
    if text:
        sizes = set()
        for part in text.split(","):
            digits = part.strip().replace("_", "")
            if not digits.isdigit() or int(digits) < MIN_INTERACTIONS:
                raise ValueError(f"{GROWTH_ENV}={setting!r}: give comma-separated numbers of "
                                 f"interactions (each at least {MIN_INTERACTIONS}) or 'off'")
            sizes.add(int(digits))
        return sorted(sizes)
    if scale.name == "bench":
        return sorted({*BENCH_GROWTH_SIZES, scale.interactions})
    return sorted({max(MIN_INTERACTIONS, round(scale.interactions * f))
                   for f in GROWTH_FRACTIONS})


def _growth_point(ws: Workspace, n: int) -> GrowthPoint:
    """Generate n interactions into growth/<n> (not timed), one full build of them (timed),
    then remove the sub-folder; a failed step is recorded, not raised."""
    root = ws.root / "growth" / str(n)
    shutil.rmtree(root, ignore_errors=True)
    raw, data = root / "raw", root / "data"
    data.mkdir(parents=True)
    point = GrowthPoint(n)
    try:
        gen = run_measured(["generate", "--scale", str(n), "--seed", str(SEED), "--out",
                            str(raw)], _env(data), ws.logs / f"growth-{n}-generate.log")
        if gen.returncode:
            point.failed_step, point.returncode, point.log = "generation", gen.returncode, \
                str(gen.log)
            return point
        point.interactions = _generated(gen.output).get("interactions", n)
        run = run_measured(["build", "--raw", str(raw)], _env(data),
                           ws.logs / f"growth-{n}-build.log")
        point.seconds, point.rss_gb, point.log = run.seconds, run.max_rss / 1e9, str(run.log)
        if run.returncode:
            point.failed_step, point.returncode = "build", run.returncode
            return point
        served = data / "warehouse" / "rapport.duckdb"
        point.warehouse_gb = served.stat().st_size / 1e9 if served.exists() else None
        return point
    finally:
        shutil.rmtree(root, ignore_errors=True)  # the disk: raw CSV and warehouse of size n
        with contextlib.suppress(OSError):
            root.parent.rmdir()  # growth/, once empty


def bench_growth(ws: Workspace, report: Report, sizes: Sequence[int]) -> None:
    """One full build per size (see the module docstring). A size equal to the bench's own
    dataset reuses the full builds' medians."""
    from rapport.generator.scales import parse_scale

    report.memory_limit = duckdb_memory_limit()
    scale = parse_scale(report.scale)
    own = scale.interactions
    full = report.figures.get("full_build")
    other = [n for n in sizes if n != own]
    if own in sizes and other and parse_scale(own) != scale:
        report.notes.append(
            f"growth: the {own:,} row is the {scale.name} dataset ({scale.accounts:,} accounts, "
            f"{scale.reps:,} reps, {scale.years} years); the other sizes are `rapport generate "
            f"--scale <n>` with the demo's proportions (at {other[0]:,}: "
            f"{parse_scale(other[0]).accounts:,} accounts, {parse_scale(other[0]).years} "
            "years), so the largest size is not only bigger but shaped differently")
    for n in sorted(sizes):
        if n == own and full and full.values:
            point = GrowthPoint(
                report.sizes.get("interactions", n), full.median,
                report.fig("full_build_rss").median, report.fig("warehouse_size").median,
                source=f"the full build above (median of {len(full.values)} run(s))")
        else:
            report.load(f"growth {n:,}")
            point = _growth_point(ws, n)
        report.growth.append(point)
        if point.failed:
            _say(f"growth {n:,}: {point.failed_step} FAILED (exit {point.returncode}); "
                 f"see {point.log}")
        else:
            _say(f"growth {point.interactions:,}: {point.seconds:.1f} s, "
                 f"{point.per_million:.1f} s per million, peak RSS {point.rss_gb:.2f} GB")


def growth_ratio(points: Sequence[GrowthPoint]) -> float | None:
    """Time per interaction of the largest built size over that of the smallest (None with
    fewer than two sizes built)."""
    built = sorted((p for p in points if p.per_million is not None),
                   key=lambda p: p.interactions)
    if len(built) < 2 or not built[0].per_million:
        return None
    return built[-1].per_million / built[0].per_million


def growth_marginal(points: Sequence[GrowthPoint]) -> float | None:
    """Seconds per million interactions added, from the smallest to the largest built size:
    the build's fixed cost (dbt's start, tests on small seeds, publish) drops out."""
    built = sorted((p for p in points if p.per_million is not None),
                   key=lambda p: p.interactions)
    if len(built) < 2 or built[-1].interactions == built[0].interactions:
        return None
    return ((built[-1].seconds - built[0].seconds)
            / ((built[-1].interactions - built[0].interactions) / 1e6))


def growth_verdict(points: Sequence[GrowthPoint]) -> str:
    """One line: how time per interaction grows and whether any build failed."""
    if not points:
        return "not measured"
    built = sorted((p for p in points if p.per_million is not None),
                   key=lambda p: p.interactions)
    ratio = growth_ratio(points)
    if ratio is None:
        text = "n/a (fewer than two sizes built)"
    else:
        small, large = f"{built[0].interactions:,}", f"{built[-1].interactions:,}"
        text = (f"linear or better ({ratio:.2f}: time per interaction at {large} over that at "
                f"{small})" if ratio <= 1.0 else
                f"{ratio:.2f} times the per-interaction cost of the smallest size "
                f"({large} vs {small} interactions)")
    failed = [p for p in points if p.failed]
    if failed:
        text += "; FAILED at " + ", ".join(
            f"{p.interactions:,} ({p.failed_step} exit {p.returncode})" for p in failed)
    else:
        text += "; no build failed"
    return text


def _num(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def render_growth(points: Sequence[GrowthPoint], memory_limit: str) -> list[str]:
    """The Growth section of the report (markdown lines)."""
    if not points:
        return []
    lines = ["## Growth", "",
             ("One full `rapport build` per size (one run per size, so no min .. max; a size "
              "equal to the dataset above reuses the full builds' median). Each size is "
              "generated with `rapport generate --scale <interactions>` (not timed). "
              f"DuckDB memory limit of the builds: {memory_limit or 'n/a'} "
              "(RAPPORT_DUCKDB_MEMORY_LIMIT; above it DuckDB spills to temporary files). Peak "
              "RSS is the whole build process tree (Python, dbt, DuckDB)."), "",
             ("| interactions | full build (s) | s per million interactions | peak RSS (GB) | "
              "warehouse (GB) |"), "|---|---|---|---|---|"]
    for p in sorted(points, key=lambda p: p.interactions):
        if p.failed:
            lines.append(f"| {p.interactions:,} | FAILED: {p.failed_step} exit {p.returncode} "
                         f"| n/a | {_num(p.rss_gb, 2)} | n/a |")
        else:
            lines.append(f"| {p.interactions:,} | {_num(p.seconds, 1)} | "
                         f"{_num(p.per_million, 1)} | {_num(p.rss_gb, 2)} | "
                         f"{_num(p.warehouse_gb, 2)} |")
    lines += ["", f"Verdict: {growth_verdict(points)}.", ""]
    marginal = growth_marginal(points)
    if marginal is not None:
        lines += [(f"Time per interaction includes each build's fixed cost, which favours the "
                   f"larger sizes; without it, from the smallest to the largest size built: "
                   f"{marginal:,.1f} s per million interactions added."), ""]
    reused = [p for p in points if p.source != "one build"]
    if reused:
        lines += [f"The {p.interactions:,} row is {p.source}." for p in reused] + [""]
    return lines


# --------------------------------------------------------------------------- 3. the floor


@dataclass(frozen=True)
class FloorModel:
    unique_id: str
    relation: str  # schema.name
    materialized: str
    sql: str


def compile_models(ws: Workspace, as_of: str, build_id: str) -> list[FloorModel]:
    """`dbt compile` of the models; the models in dependency order. The compiled SQL names
    the database `build` (rapport.pipeline.dbt_runner.DB_LINK, what dbt opens), so the floor's file
    is named build.duckdb too."""
    from rapport.pipeline import dbt_runner

    compile_dir = ws.root / "floor-compile"
    shutil.rmtree(compile_dir, ignore_errors=True)
    compile_dir.mkdir(parents=True)
    result = dbt_runner.run_dbt(
        ["compile", "--select", "resource_type:model"], compile_dir / dbt_runner.DB_LINK,
        vars={"as_of_date": as_of, "build_id": build_id}, target_path=compile_dir / "target",
        echo=None)
    if not result.success:
        raise BenchError(f"dbt compile failed: {result.error or result.failures}; see "
                         f"{compile_dir / 'target' / 'logs'}")
    manifest = json.loads((compile_dir / "target" / "manifest.json").read_text())
    models = {uid: node for uid, node in manifest["nodes"].items()
              if node["resource_type"] == "model"}
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for dep in models[uid]["depends_on"]["nodes"]:
            if dep in models:
                visit(dep)
        order.append(uid)

    for uid in sorted(models):
        visit(uid)
    found = []
    for uid in order:
        node = models[uid]
        sql = node.get("compiled_code")
        if not sql:
            path = compile_dir / "target" / "compiled" / node["package_name"] / \
                node["original_file_path"]
            sql = path.read_text()
        materialized = node["config"]["materialized"]
        if materialized == "ephemeral":
            raise BenchError(f"{uid} is ephemeral: the floor does not inline CTEs")
        found.append(FloorModel(uid, f"{node['schema']}.{node.get('alias') or node['name']}",
                                "view" if materialized == "view" else "table", sql))
    return found


def _floor_load(con: duckdb.DuckDBPyConnection, ws: Workspace) -> None:
    """Raw files straight into typed tables (validated.*), seeds copied (config.*)."""
    from rapport.contract import contract
    from rapport.pipeline.ingest import find_table_file, read_expression, read_header

    for schema in ("validated", "config", "staging", "intermediate", "marts", "meta"):
        con.execute(f"create schema if not exists {schema}")
    for table in contract().tables.values():
        path = find_table_file(ws.raw, table)
        types = {c.name: SQL_TYPES[c.type] for c in table.columns.values()}
        if path is None:
            cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
            con.execute(f'create table validated."{table.name}" ({cols}, _source_file varchar, '
                        f"_row_number bigint)")
            continue
        if path.suffix == ".csv":
            header = read_header(con, path)
            spec = ", ".join(f"'{c}': '{types.get(c, 'varchar')}'" for c in header)
            source = (f"read_csv('{path}', columns = {{{spec}}}, header = true, "
                      f"auto_detect = false, delim = ',', quote = '\"', escape = '\"')")
        else:
            source = read_expression(path, [])
        select = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in types.items())
        con.execute(f'create table validated."{table.name}" as select {select}, '
                    f"'{path.name}' as _source_file, cast(null as bigint) as _row_number "
                    f"from {source}")
    con.execute(f"attach '{ws.full_copy}' as full_build (read_only)")
    for (name,) in con.execute("select table_name from information_schema.tables where "
                               "table_catalog = 'full_build' and table_schema = 'config'"
                               ).fetchall():
        con.execute(f'create table config."{name}" as select * from full_build.config."{name}"')
    con.execute("detach full_build")


# the compiled SQL names the database as dbt opened it (rapport.pipeline.dbt_runner.DB_LINK)
FLOOR_FILE = "build.duckdb"


def bench_floor(ws: Workspace, models: list[FloorModel], report: Report) -> None:
    floor_dir = ws.root / "floor"
    per_model: dict[str, list[float]] = {}
    for i in range(report.runs):
        shutil.rmtree(floor_dir, ignore_errors=True)
        floor_dir.mkdir(parents=True)
        report.load("floor")
        con = duckdb.connect(str(floor_dir / FLOOR_FILE))
        try:
            t0 = time.perf_counter()
            _floor_load(con, ws)
            t1 = time.perf_counter()
            for model in models:
                started = time.perf_counter()
                kind = "view" if model.materialized == "view" else "table"
                con.execute(f"create or replace {kind} {model.relation} as {model.sql}")
                per_model.setdefault(model.unique_id, []).append(time.perf_counter() - started)
            con.execute("checkpoint")
            t2 = time.perf_counter()
        finally:
            con.close()
        report.fig("floor_load").add(t1 - t0)
        report.fig("floor_models").add(t2 - t1)
        report.fig("floor").add(t2 - t0)
        _say(f"floor {i + 1}/{report.runs}: {t2 - t0:.1f} s (load {t1 - t0:.1f} s, models "
             f"{t2 - t1:.1f} s)")
    report.floor_models = {uid: Figure(v) for uid, v in per_model.items()}
    differing = compare_marts(floor_dir / FLOOR_FILE, ws.full_copy, counts_only=True)
    report.checks["floor_marts"] = (
        "same row count in every mart as the full build" if not differing else
        f"row counts differ from the full build: {differing}")


FLOAT_TOLERANCE = 1e-5


def _unpaired(left: list[tuple], right: list[tuple], floats: list[int],
              tolerance: float = FLOAT_TOLERANCE) -> tuple[int, int]:
    """Rows of `left` and `right` left over after pairing each with a row of the other side
    equal in every non-float column and within `tolerance` in every float column."""
    def key(row: tuple) -> tuple:
        return tuple(v for i, v in enumerate(row) if i not in floats)

    waiting: dict[tuple, list[tuple]] = {}
    for row in right:
        waiting.setdefault(key(row), []).append(row)
    unpaired_left = 0
    for row in left:
        candidates = waiting.get(key(row), [])
        match = next((c for c in candidates if all(
            (row[i] is None) == (c[i] is None)
            and (row[i] is None or abs(row[i] - c[i]) <= tolerance) for i in floats)),
            None)
        if match is None:
            unpaired_left += 1
        else:
            candidates.remove(match)
    return unpaired_left, sum(len(rows) for rows in waiting.values())


def compare_marts(a: Path, b: Path, counts_only: bool = False, decimals: int = 4,
                  tolerance: float = FLOAT_TOLERANCE) -> dict[str, tuple]:
    """Marts that differ between two warehouse files: {mart: (rows a, rows b, only in a,
    only in b)}. Floats are compared rounded to `decimals` first (the models round scores to
    6; parallel float sums can land either side of that rounding step); the few rows left on
    either side are then paired on their other columns and count as equal when every float
    is within `tolerance`. The Spark and DuckDB builds of the same data were compared with
    decimals=6 (docs/scale-out.md)."""
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    differing = {}
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = 'b' and "
        "table_schema = 'marts' order by table_name").fetchall()]
    for table in tables:
        cols = con.execute(
            "select column_name, data_type from information_schema.columns where "
            "table_catalog = 'b' and table_schema = 'marts' and table_name = ? "
            "order by ordinal_position", [table]).fetchall()
        select = ", ".join(f'round("{c}", {int(decimals)})' if t in ("DOUBLE", "FLOAT")
                           else f'"{c}"' for c, t in cols)
        try:
            rows = con.execute(f'select (select count(*) from a.marts."{table}"), '
                               f'(select count(*) from b.marts."{table}")').fetchone()
            if counts_only:
                if rows[0] != rows[1]:
                    differing[table] = rows
                continue
            plain = ", ".join(f'"{c}"' for c, _ in cols)
            left = con.execute(
                f'select {plain} from a.marts."{table}" where ({select}) in '
                f'(select {select} from a.marts."{table}" '
                f'except all select {select} from b.marts."{table}")').fetchall()
            right = con.execute(
                f'select {plain} from b.marts."{table}" where ({select}) in '
                f'(select {select} from b.marts."{table}" '
                f'except all select {select} from a.marts."{table}")').fetchall()
        except duckdb.Error as exc:
            differing[table] = (str(exc).splitlines()[0],)
            continue
        floats = [i for i, (_, t) in enumerate(cols) if t in ("DOUBLE", "FLOAT")]
        only = _unpaired(left, right, floats, tolerance)
        if rows[0] != rows[1] or any(only):
            differing[table] = (*rows, *only)
    con.close()
    return differing


# --------------------------------------------------------------------------- 4. incremental


def split_last_day(path: Path) -> tuple[int, bytes]:
    """Byte offset where the last day of a time-ordered interactions CSV starts, and the
    bytes from there to the end."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.readline()
        column = header.decode().strip().split(",").index("occurred_at")
        chunk = 1 << 22
        while True:
            start = max(len(header), size - chunk)
            handle.seek(start)
            data = handle.read(size - start)
            if start > len(header):
                data = data[data.index(b"\n") + 1:]  # from the first whole line
                start = size - len(data)
            lines = data.splitlines(keepends=True)
            day = lines[-1].split(b",")[column][:10]
            first = next(i for i, line in enumerate(lines)
                         if line.split(b",")[column][:10] == day)
            if first > 0 or start == len(header):
                offset = start + sum(len(line) for line in lines[:first])
                handle.seek(offset)
                return offset, handle.read()
            chunk *= 4


def bench_incremental(ws: Workspace, report: Report) -> None:
    interactions = ws.raw / "interactions.csv"
    if not interactions.exists():
        report.notes.append("incremental: skipped (interactions are not CSV)")
        return
    offset, tail = split_last_day(interactions)
    day = tail.split(b",", 2)[1][:10].decode()
    lines = tail.count(b"\n")
    report.checks["appended_day"] = (f"{day}: {lines:,} interactions, {len(tail):,} bytes "
                                     f"cut before the base build and appended again")
    with interactions.open("r+b") as handle:
        handle.truncate(offset)
    try:
        report.load("incremental base")
        base = _build(ws, [], "build-incremental-base")
        report.fig("incremental_base_build").add(base.seconds)
    finally:
        with interactions.open("ab") as handle:
            if interactions.stat().st_size == offset:
                handle.write(tail)
    for i in range(report.runs):
        report.load("incremental")
        run = _build(ws, ["--incremental"], f"build-incremental-{i}")
        if "incremental: not possible" in run.output:
            reason = re.search(r"incremental: not possible \((.*)\); doing", run.output)
            report.notes.append(f"incremental run {i + 1} fell back to a full build: "
                                f"{reason.group(1) if reason else '?'}")
        report.fig("incremental").add(run.seconds)
        report.fig("incremental_rss").add(run.max_rss / 1e9)
        for stage, seconds in _stages(run.output).items():
            report.inc_stages.setdefault(stage, Figure()).add(seconds)
        _say(f"incremental build {i + 1}/{report.runs}: {run.seconds:.1f} s")
        if i < report.runs - 1:
            back = run_measured(["rollback"], _env(ws.data), ws.logs / f"rollback-{i}.log")
            if back.returncode:
                raise BenchError(f"rapport rollback failed; see {back.log}")
    report.fig("warehouse_size_after_incremental").add(ws.served.stat().st_size / 1e9)
    differing = compare_marts(ws.served, ws.full_copy)
    report.checks["incremental_marts"] = (
        "every mart equal to the full build of the same files (floats to 4 decimals)"
        if not differing else f"marts differ from the full build: {differing}")


# --------------------------------------------------------------------------- 5. pages


@contextlib.contextmanager
def _server(ws: Workspace, log: Path) -> Iterator[str]:
    """`rapport serve` on the served bench warehouse: tests/support/browser.py's server,
    with the workspace's environment and a 180 s start-up allowance."""
    stack = contextlib.ExitStack()
    try:
        base = stack.enter_context(dashboard_server(ws.served, timeout=180.0,
                                                    env=_env(ws.data), log_path=log))
    except RuntimeError as exc:  # the server exited or never became healthy
        raise BenchError(str(exc)) from exc
    with stack:
        yield base


def _wait_rendered(page: Any, title: str, charts: int) -> None:
    """The page's title, its script finished, `charts` plotly charts drawn, every table shown
    drawn, no status widget: tests/support/browser.py's wait_rendered, with the bench's
    longer timeout (a bench-scale warehouse)."""
    wait_rendered(page, title, charts, timeout_ms=_PAGE_TIMEOUT_MS)


_WATCH_RUN = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__benchRun = {started: null, finished: null};
    const observer = new MutationObserver(() => {
        const state = app.getAttribute('data-test-script-state');
        if (state === 'running' && window.__benchRun.started === null) {
            window.__benchRun.started = performance.now();
        } else if (state === 'notRunning' && window.__benchRun.started !== null
                   && window.__benchRun.finished === null) {
            window.__benchRun.finished = performance.now();
        }
    });
    observer.observe(app, {attributes: true});
    window.__benchRun.t0 = performance.now();
}"""


def _has_region_filter(page: Any, timeout_ms: float = 10_000) -> bool:
    """Whether the page shows the sidebar's Region filter (waited for: right after a
    navigation to the URL the browser is on, the page can still be the one before)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator(_REGION_FILTER).first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def _filter_change(page: Any, region_index: int, timeout_ms: float = 300_000) -> float:
    """Pick one region in the sidebar; seconds from the key press until the script run it
    started has finished and no status widget shows."""
    page.locator(_REGION_FILTER).locator("input").first.click()
    options = page.locator('[role="option"]')
    options.first.wait_for(timeout=timeout_ms)
    names = [n.strip() for n in options.all_inner_texts()]
    names = [n for n in names if n and n.lower() != "select all"]
    if not names:
        raise BenchError("the Region filter offers no region")
    chosen = names[region_index % len(names)]
    page.keyboard.type(chosen)
    page.evaluate(_WATCH_RUN)
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__benchRun.finished !== null", timeout=timeout_ms)
    page.wait_for_selector(STATUS, state="detached", timeout=timeout_ms)
    elapsed = page.evaluate("() => (window.__benchRun.finished - window.__benchRun.t0) / 1000")
    page.keyboard.press("Escape")
    return float(elapsed)


def bench_pages(ws: Workspace, report: Report) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        report.notes.append(f"pages: skipped (playwright is not installed: {exc})")
        return
    if not Path(CHROMIUM).exists():
        report.notes.append(f"pages: skipped ({CHROMIUM} not found; `make chromium`)")
        return
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(report.runs):
                report.load("pages")
                _pages_run(ws, browser, i, report)
        except BenchError:
            raise
        except Exception as exc:  # a page that did not render: a failed step, not a crash
            raise BenchError(f"pages: {type(exc).__name__}: {str(exc).splitlines()[0]}; "
                             f"see {ws.logs}/serve-*.log") from exc
        finally:
            browser.close()


def _touch(path: Path) -> None:
    """A new mtime: the dashboard's query cache (keyed on the file identity) is cold."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def _pages_run(ws: Workspace, browser: Any, run: int, report: Report) -> None:
    with _server(ws, ws.logs / f"serve-{run}.log") as base:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        try:
            started = time.perf_counter()
            page.goto(f"{base}/")
            _wait_rendered(page, PAGES[0][1], PAGES[0][2])
            report.fig("first_load").add(time.perf_counter() - started)
            for url_path, title, charts in [*PAGES[1:], PAGES[0]]:
                _touch(ws.served)
                link = page.locator('[data-testid="stSidebarNav"]').get_by_role(
                    "link", name=title, exact=True)
                started = time.perf_counter()
                link.click()
                _wait_rendered(page, title, charts)
                figures = report.pages.setdefault(title, {})
                figures.setdefault("cold", Figure()).add(time.perf_counter() - started)
            for n, (url_path, title, charts) in enumerate(PAGES):
                page.goto(f"{base}/{url_path}")  # a new session: no region picked yet
                _wait_rendered(page, title, charts)
                if not _has_region_filter(page):
                    continue  # a page without the sidebar filters (Data quality)
                seconds = _filter_change(page, n)
                report.pages[title].setdefault("filter", Figure()).add(seconds)
            _say(f"pages {run + 1}/{report.runs}: " + ", ".join(
                f"{t} {f['cold'].values[-1]:.2f}/"
                + (f"{f['filter'].values[-1]:.2f} s" if "filter" in f else "no filter")
                for t, f in report.pages.items()))
        finally:
            context.close()


# --------------------------------------------------------------------------- the report


TARGETS = {
    "full_build": ("full build", "<= 60 s"),
    "generation": ("generation of the dataset", "<= 30 s"),
}


def _ratio(a: Figure, b: Figure) -> str:
    if not a.values or not b.values or not b.median:
        return "n/a"
    return f"{a.median / b.median:.2f}"


def render(report: Report, command: str) -> str:
    m = report.machine
    f = report.figures
    lines = [
        "# Benchmarks",
        "",
        f"Reproduce: `{command}` (writes this file; `make bench` runs it at bench scale).",
        "Code: `tools/bench.py` (what each figure measures is in its docstring and below).",
        "",
        (f"Run of {report.started} UTC, scale `{report.scale}`, {report.runs} run(s) per figure: "
        "**median (min .. max)**."),
        "",
        "## Machine",
        "",
        f"- {m['cores']} cores, {m['memory_bytes'] / 2**30:.1f} GiB memory, {m['cpu']}",
        f"- load average at start: {', '.join(str(x) for x in m['load_at_start'])} "
        "(1, 5, 15 min); at the start of each run: "
        + "; ".join(f"{k} {', '.join(str(x) for x in v)}" for k, v in report.loads.items()),
        f"- Python {m['python']}, {m['os']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- commit {m['git_commit']}; work folder {report.work_dir}",
        "",
    ]
    s = report.sizes
    if s:
        lines += [
            "## Dataset",
            "",
            (f"`rapport generate --scale {report.scale} --seed {SEED}` (CSV): "
            f"{s.get('interactions', 0):,} interactions, {s.get('accounts', 0):,} accounts, "
            f"{s.get('contacts', 0):,} contacts, {s.get('reps', 0):,} reps; "
            f"{s.get('rows', 0):,} rows in {s.get('tables', 0)} tables, "
            f"{s.get('raw_bytes', 0) / 1e6:,.1f} MB of CSV."),
            "",
        ]
    full, floor, inc = f.get("full_build", Figure()), f.get("floor", Figure()), \
        f.get("incremental", Figure())
    lines += [
        "## Summary",
        "",
        "| figure | measured | target |",
        "|---|---|---|",
        f"| generation | {f.get('generation', Figure()).text()} | <= 30 s |",
        (f"| full build (ingest, gate, input checks, dbt build + tests, mart checks, publish) "
        f"| {full.text()} | <= 60 s |"),
        f"| floor: same marts, plain DuckDB SQL, no dbt | {floor.text()} | |",
        f"| build / floor | {_ratio(full, floor)} | <= 1.3 |",
        f"| incremental build after one more day | {inc.text()} | |",
        f"| incremental / full | {_ratio(inc, full)} | <= 0.15 |",
        (f"| peak RSS of the full build | {f.get('full_build_rss', Figure()).text('GB', 2)} "
        f"| <= 3 GB |"),
        (f"| peak RSS of the incremental build | "
        f"{f.get('incremental_rss', Figure()).text('GB', 2)} | <= 3 GB |"),
        f"| peak RSS of generation | {f.get('generation_rss', Figure()).text('GB', 2)} | |",
        f"| warehouse file (served) | {f.get('warehouse_size', Figure()).text('GB', 2)} | |",
        (f"| warehouse file after the incremental build | "
        f"{f.get('warehouse_size_after_incremental', Figure()).text('GB', 2)} | |"),
        (f"| growth: full build time per interaction, largest vs smallest size "
        f"| {growth_verdict(report.growth)} | linear or better |"),
        "",
    ]
    if report.checks:
        lines += ["Checks made by the same run:", ""]
        lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in report.checks.items()]
        lines += [""]
    if report.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in report.notes] + [""]
    lines += render_growth(report.growth, report.memory_limit)
    if report.stages:
        lines += ["## Full build by stage", "",
                  "From the build's progress lines (`<stage>: done in N s`).", "",
                  "| stage | full build | incremental build |", "|---|---|---|"]
        for stage in dict.fromkeys([*report.stages, *report.inc_stages]):
            lines.append(f"| {stage} | {report.stages.get(stage, Figure()).text()} | "
                         f"{report.inc_stages.get(stage, Figure()).text()} |")
        if "incremental_base_build" in f:
            lines.append(f"\nThe base of the incremental runs (a full build without the last "
                         f"day, not a figure above): {f['incremental_base_build'].text()}.")
        lines.append("")
    if report.dbt_nodes:
        floor_by_node = report.floor_models

        def slowest(kind: str, n: int) -> list[tuple[str, Figure]]:
            found = [(k, v) for k, v in report.dbt_nodes.items() if k.startswith(kind + ".")]
            return sorted(found, key=lambda kv: -kv[1].median)[:n]

        lines += ["## Ten slowest models (full build)", "",
                  ("dbt's run_results.json (execution time of each node; dbt runs one node "
                   "at a time: profiles.yml threads: 1). Floor: the same compiled SQL run "
                   "alone in the floor's connection."), "",
                  "| model | in dbt | in the floor |", "|---|---|---|"]
        for node, fig in slowest("model", 10):
            lines.append(f"| `{node.split('.')[-1]}` | {fig.text(digits=2)} | "
                         f"{floor_by_node.get(node, Figure()).text(digits=2)} |")
        lines += ["", "Slowest data tests and unit tests:", "", "| node | in dbt |",
                  "|---|---|"]
        for node, fig in slowest("test", 5) + slowest("unit_test", 3):
            lines.append(f"| `{node.split('.', 2)[-1]}` | {fig.text(digits=2)} |")
        kinds: dict[str, tuple[int, float]] = {}
        for node, fig in report.dbt_nodes.items():
            kind = node.split(".")[0]
            count, total = kinds.get(kind, (0, 0.0))
            kinds[kind] = (count + 1, total + fig.median)
        lines += ["", "All nodes by kind (count, sum of median times): " + ", ".join(
            f"{k} {c} nodes {t:,.1f} s" for k, (c, t) in
            sorted(kinds.items(), key=lambda kv: -kv[1][1])) + ".", ""]
    if "floor" in f:
        lines += ["## Floor", "",
                  (f"- load (raw files into typed tables, seeds copied): "
                  f"{f['floor_load'].text()}"),
                  (f"- models (compiled SQL in dependency order, one connection): "
                  f"{f['floor_models'].text()}"),
                  (f"- dbt stage of the full build / floor models: "
                  f"{_ratio(report.stages.get('dbt', Figure()), f['floor_models'])}"),
                  ""]
    if report.pages:
        lines += ["## Dashboard pages", "",
                  ("Headless Chromium 1366x768 on `rapport serve` with the final warehouse. "
                  "Cold: query cache emptied, page opened from the sidebar, until title, "
                  "charts and no running script. Filter change: one region picked in the "
                  "sidebar, until the script run it starts has finished."), "",
                  (f"First load of the app on a fresh server (includes Streamlit's imports): "
                  f"{f.get('first_load', Figure()).text(digits=2)}."), "",
                  "| page | cold (target <= 1.5 s) | after a filter change (target <= 0.3 s) |",
                  "|---|---|---|"]
        for title, figs in report.pages.items():
            lines.append(f"| {title} | {figs.get('cold', Figure()).text(digits=2)} | "
                         f"{figs.get('filter', Figure()).text(digits=2)} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _write(report: Report, out: Path, command: str, ws: Workspace) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(report, command)
    marker = "<!-- bench:analysis -->"
    if out.exists() and marker in out.read_text():
        text += "\n" + out.read_text()[out.read_text().index(marker):]
    out.write_text(text)
    raw = {k: v for k, v in report.__dict__.items()}
    (ws.root / "bench.json").write_text(json.dumps(raw, default=lambda o: o.__dict__,
                                                   indent=1))


def run_bench(scale: str | int = "bench", runs: int = 3, out: str | Path = "docs/benchmarks.md"
              ) -> int:
    """The command: run every measurement and write the report; exit 1 when a step failed (the
    report then holds what was measured up to it)."""
    from rapport.generator.scales import parse_scale

    try:
        sc = parse_scale(scale)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if runs < 1:
        print("bench: --runs must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        sizes = growth_sizes(sc, os.environ.get(GROWTH_ENV))
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    name = sc.name
    out_path = Path(out) if Path(out).is_absolute() else PROJECT_ROOT / out
    command = f"python -m tools.bench --scale {name} --runs {runs} --out {out}"
    if os.environ.get(GROWTH_ENV):
        command = f"{GROWTH_ENV}={os.environ[GROWTH_ENV].strip()} {command}"
    ws = workspace(name)
    report = Report(scale=name, runs=runs, machine=machine_info(),
                    started=f"{datetime.now(UTC):%Y-%m-%d %H:%M}", work_dir=str(ws.root),
                    memory_limit=duckdb_memory_limit())
    _say(f"scale {name}, {runs} run(s), work folder {ws.root}; load average "
         f"{report.machine['load_at_start']}")
    code = EXIT_OK
    try:
        bench_generation(ws, name, report)
        build_id, as_of = bench_full_builds(ws, report)
        bench_growth(ws, report, sizes)
        bench_floor(ws, compile_models(ws, as_of, build_id), report)
        bench_incremental(ws, report)
        bench_pages(ws, report)
    except BenchError as exc:
        report.notes.append(f"FAILED: {exc}")
        print(f"bench: {exc}", file=sys.stderr)
        code = EXIT_FAILED
    _write(report, out_path, command, ws)
    _say(f"wrote {out_path}")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Benchmark generation, build and pages at bench scale (docs/benchmarks.md).")
    parser.add_argument("--scale", default="bench",
                        help="demo, bench, or a number of interactions (default: bench)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="docs/benchmarks.md")
    args = parser.parse_args(argv)
    return run_bench(scale=args.scale, runs=args.runs, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
