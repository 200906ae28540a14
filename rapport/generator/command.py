"""`rapport generate`: deterministic synthetic CRM data, one file per contract table.

See docs/generator.md for the scales, the simulated business behaviours and the knobs.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rapport.contract import contract
from rapport.generator.output import FORMATS, Progress, id_width, write_table
from rapport.generator.scales import parse_scale
from rapport.generator.simulate import people, simulate
from rapport.generator.tables import BUILDERS, NOT_GENERATED, make_ids
from rapport.generator.world import HABITS

EXIT_OK, EXIT_BAD_INPUT = 0, 2
BIG_TABLE = "interactions"


def _check_args(seed: int, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")


def generate(scale: str | int, seed: int, out_dir: Path, fmt: str = "csv",
             progress: bool = False) -> dict[str, int]:
    """Write one file per contract table into out_dir (but the optional tables of
    NOT_GENERATED); return the rows written per table.

    The same scale, seed and format give byte-identical files. Files of the other format for
    the same tables, and files of the tables not generated, are removed so that out_dir
    holds exactly the generated tables, one file each.
    """
    sc = parse_scale(scale)
    _check_args(seed, fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = contract()
    tables = [name for name in spec.tables if name not in NOT_GENERATED]
    missing = set(tables) ^ set(BUILDERS)
    if missing:
        raise RuntimeError(f"generator and contract disagree on tables: {sorted(missing)}")
    left_out = [name for name in NOT_GENERATED if spec.tables[name].core]
    if left_out:
        raise RuntimeError(f"generator: core table(s) {left_out} must be generated")
    bar = Progress(progress, len(tables))
    world = simulate(sc, seed, bar)
    ids = make_ids(world)
    for name in spec.tables:
        for other in FORMATS:
            stale = out_dir / f"{name}.{other}"
            if (other != fmt or name in NOT_GENERATED) and stale.exists():
                stale.unlink()

    def write(name: str) -> int:
        chunks, total = BUILDERS[name](world, ids)
        return write_table(out_dir, name, chunks, fmt, total, bar)

    # the big table is written on a second thread while the others are written here
    # (numpy and polars release the GIL); each file is still written in one fixed order
    with ThreadPoolExecutor(max_workers=1) as pool:
        big = pool.submit(write, BIG_TABLE)
        written = {name: write(name) for name in tables if name != BIG_TABLE}
        written[BIG_TABLE] = big.result()
    return {name: written[name] for name in tables}

def rep_habits(scale: str | int, seed: int) -> dict[str, str]:
    """rep_id -> the habit the generator gave that rep (habits are not written to any file).

    One of: diligent, average, elite_private, neglectful.
    """
    sc = parse_scale(scale)
    _, _, reps = people(sc, seed)
    width = id_width(reps.n)
    return {f"REP{i + 1:0{width}d}": HABITS[h] for i, h in enumerate(reps.habit)}


def run_generate(scale: str | int, seed: int, out: str | Path | None, fmt: str = "csv") -> int:
    """The CLI: generate, print a short summary; exit 2 on bad arguments."""
    from rapport.paths import raw_dir

    try:
        sc = parse_scale(scale)
        _check_args(seed, fmt)
    except ValueError as exc:
        print(f"rapport generate: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out_dir = Path(out) if out is not None else raw_dir()
    if out_dir.exists() and not out_dir.is_dir():
        print(f"rapport generate: --out {out_dir} exists and is not a folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"generating scale {sc.name} (seed {seed}, {fmt}) into {out_dir}", file=sys.stderr)
    t0 = time.perf_counter()
    rows = generate(sc.name if sc.name in ("demo", "bench") else sc.interactions, seed,
                    out_dir, fmt, progress=True)
    seconds = time.perf_counter() - t0
    print(f"wrote {len(rows)} tables, {sum(rows.values()):,} rows "
          f"({rows['interactions']:,} interactions, {rows['accounts']:,} accounts, "
          f"{rows['contacts']:,} contacts, {rows['reps']:,} reps) to {out_dir} "
          f"in {seconds:.1f}s")
    return EXIT_OK
