"""The benchmark's (tools/bench.py) growth step: sizes, the per-interaction ratio, the verdict and the table
(pure functions, hand-worked numbers; no builds)."""

from __future__ import annotations

import pytest

from rapport.generator.scales import BENCH, DEMO, parse_scale
from tools import bench
from tools.bench import (
    GrowthPoint,
    Report,
    growth_marginal,
    growth_ratio,
    growth_sizes,
    growth_verdict,
    render,
    render_growth,
)

# 1M / 3M / 10M interactions built in 20 s / 60 s / 230 s
POINTS = [GrowthPoint(1_000_000, 20.0, 1.1, 0.2), GrowthPoint(3_000_000, 60.0, 1.5, 0.6),
          GrowthPoint(10_000_000, 230.0, 2.4, 2.0)]


def test_seconds_per_million_and_the_ratio_of_largest_to_smallest():
    assert [p.per_million for p in POINTS] == [20.0, 20.0, 23.0]
    assert growth_ratio(POINTS) == pytest.approx(1.15)  # 23.0 / 20.0
    assert growth_ratio(list(reversed(POINTS))) == pytest.approx(1.15)  # by size, not order


def test_verdict_says_how_many_times_the_per_interaction_cost_or_linear():
    assert growth_verdict(POINTS) == (
        "1.15 times the per-interaction cost of the smallest size (10,000,000 vs 1,000,000 "
        "interactions); no build failed")
    # 10M in 180 s: 18 s per million, 0.90 of the smallest's 20
    better = [*POINTS[:2], GrowthPoint(10_000_000, 180.0)]
    assert growth_ratio(better) == pytest.approx(0.9)
    assert growth_verdict(better).startswith("linear or better (0.90: ")
    exactly = [POINTS[0], GrowthPoint(2_000_000, 40.0)]  # 1.00 counts as linear
    assert growth_verdict(exactly).startswith("linear or better (1.00: ")
    assert growth_verdict([]) == "not measured"


def test_a_failed_size_is_reported_failed_with_its_exit_code_not_in_the_ratio():
    failed = GrowthPoint(3_000_000, 41.5, 2.1, returncode=1, failed_step="build")
    points = [POINTS[0], failed, POINTS[2]]
    assert failed.failed and failed.per_million is None
    assert growth_ratio(points) == pytest.approx(1.15)  # from 1M and 10M
    assert growth_verdict(points).endswith("; FAILED at 3,000,000 (build exit 1)")
    table = render_growth(points, "2GB")
    assert "| 3,000,000 | FAILED: build exit 1 | n/a | 2.10 | n/a |" in table
    only_one = [POINTS[0], GrowthPoint(3_000_000, returncode=-9, failed_step="build")]
    assert growth_verdict(only_one) == ("n/a (fewer than two sizes built); FAILED at "
                                        "3,000,000 (build exit -9)")
    gen = GrowthPoint(3_000_000, returncode=2, failed_step="generation")
    assert "| 3,000,000 | FAILED: generation exit 2 | n/a | n/a | n/a |" in render_growth(
        [gen], "2GB")


def test_the_growth_table():
    reused = GrowthPoint(10_000_000, 230.0, 2.4, 2.0,
                         source="the full build above (median of 3 run(s))")
    lines = render_growth([POINTS[1], reused, POINTS[0]], "2GB")
    assert lines[0] == "## Growth"
    assert "DuckDB memory limit of the builds: 2GB" in lines[2]
    assert "one run per size" in lines[2]
    start = lines.index("| interactions | full build (s) | s per million interactions | "
                        "peak RSS (GB) | warehouse (GB) |")
    assert lines[start + 1: start + 5] == [
        "|---|---|---|---|---|",
        "| 1,000,000 | 20.0 | 20.0 | 1.10 | 0.20 |",
        "| 3,000,000 | 60.0 | 20.0 | 1.50 | 0.60 |",
        "| 10,000,000 | 230.0 | 23.0 | 2.40 | 2.00 |",
    ]
    assert ("Verdict: 1.15 times the per-interaction cost of the smallest size (10,000,000 vs "
            "1,000,000 interactions); no build failed.") in lines
    assert "The 10,000,000 row is the full build above (median of 3 run(s))." in lines
    # (230 - 20) s over 9 million more interactions
    assert growth_marginal(POINTS) == pytest.approx(23.333333)
    assert ("Time per interaction includes each build's fixed cost, which favours the larger "
            "sizes; without it, from the smallest to the largest size built: 23.3 s per "
            "million interactions added.") in lines
    assert growth_marginal(POINTS[:1]) is None
    assert render_growth([], "2GB") == []


def test_the_summary_holds_the_verdict_against_linear_or_better():
    machine = {"cores": 2, "memory_bytes": 2**33, "cpu": "x", "load_at_start": [0, 0, 0],
               "python": "3.11", "os": "linux", "versions": {}, "git_commit": "abc"}
    report = Report(scale="bench", runs=1, machine=machine, started="now", work_dir="/w",
                    growth=POINTS, memory_limit="2GB")
    text = render(report, "python -m tools.bench")
    assert ("| growth: full build time per interaction, largest vs smallest size | 1.15 times "
            "the per-interaction cost of the smallest size (10,000,000 vs 1,000,000 "
            "interactions); no build failed | linear or better |") in text
    assert "\n## Growth\n" in text
    report.growth = []
    assert "| not measured | linear or better |" in render(report, "python -m tools.bench")


def test_sizes_by_scale_and_from_the_environment_setting():
    assert growth_sizes(BENCH) == [1_000_000, 3_000_000, 10_000_000]
    assert growth_sizes(DEMO) == [20_000, 60_000, 200_000]
    assert growth_sizes(parse_scale(100_000)) == [10_000, 30_000, 100_000]
    assert growth_sizes(parse_scale(5_000)) == [2_000, 5_000]  # 10 % and 30 % floored at 2,000
    assert growth_sizes(BENCH, "off") == [] == growth_sizes(BENCH, " OFF ")
    assert growth_sizes(BENCH, "") == growth_sizes(BENCH, None) == growth_sizes(BENCH)
    assert growth_sizes(DEMO, "6000, 3_000,6000") == [3_000, 6_000]
    for bad in ("1e6", "abc", "3000,", "100"):
        with pytest.raises(ValueError, match="RAPPORT_BENCH_GROWTH_SIZES"):
            growth_sizes(DEMO, bad)


def _report(scale: str) -> Report:
    return Report(scale=scale, runs=3, machine={}, started="now", work_dir="/w")


def test_the_size_of_the_bench_dataset_reuses_the_full_builds_and_builds_nothing(
        tmp_path, monkeypatch):
    report = _report("5000")
    report.sizes = {"interactions": 5_000}
    for name, values in (("full_build", [10.0, 12.0, 11.0]), ("full_build_rss", [0.5, 0.7, 0.6]),
                         ("warehouse_size", [0.1, 0.1, 0.1])):
        for v in values:
            report.fig(name).add(v)
    monkeypatch.setattr(bench, "run_measured", lambda *a, **k: pytest.fail("built"))
    monkeypatch.delenv("RAPPORT_DUCKDB_MEMORY_LIMIT", raising=False)
    bench.bench_growth(bench.Workspace(tmp_path), report, [5_000])
    (point,) = report.growth
    assert (point.interactions, point.seconds, point.rss_gb) == (5_000, 11.0, 0.6)
    assert point.source == "the full build above (median of 3 run(s))"
    assert report.memory_limit == "2GB"  # rapport/paths.py's default


def test_a_failing_build_at_a_size_is_recorded_and_the_bench_goes_on(tmp_path, monkeypatch):
    calls = []

    def fake_run(args, env, log, timeout=0):
        calls.append(args[0])
        log.parent.mkdir(parents=True, exist_ok=True)
        if args[0] == "generate":
            output = ("wrote 9 tables, 9,000 rows (3,001 interactions, 20 accounts, "
                      "200 contacts, 16 reps)")
            return bench.Run(1.0, 0, 10**8, output, log)
        return bench.Run(7.5, 1, 2 * 10**9, "boom", log)

    monkeypatch.setattr(bench, "run_measured", fake_run)
    monkeypatch.setenv("RAPPORT_DUCKDB_MEMORY_LIMIT", "1GB")
    report = _report("demo")
    bench.bench_growth(bench.Workspace(tmp_path), report, [3_000])
    assert calls == ["generate", "build"]
    (point,) = report.growth
    assert (point.interactions, point.failed_step, point.returncode) == (3_001, "build", 1)
    assert point.rss_gb == 2.0 and point.per_million is None
    assert report.memory_limit == "1GB"
    assert not (tmp_path / "growth" / "3000").exists()  # its sub-folder is removed


def test_at_bench_scale_the_differently_shaped_largest_size_is_noted(tmp_path, monkeypatch):
    def fake_run(args, env, log, timeout=0):
        return bench.Run(20.0, 0, 10**9, "", log)  # no 'wrote' line: the size asked is used

    monkeypatch.setattr(bench, "run_measured", fake_run)
    report = _report("bench")
    report.fig("full_build").add(230.0)
    report.fig("full_build_rss").add(2.4)
    report.fig("warehouse_size").add(2.0)
    bench.bench_growth(bench.Workspace(tmp_path), report, [1_000_000, 10_000_000])
    assert [(p.interactions, p.seconds, p.source) for p in report.growth] == [
        (1_000_000, 20.0, "one build"),
        (10_000_000, 230.0, "the full build above (median of 1 run(s))")]
    (note,) = report.notes
    assert note.startswith("growth: the 10,000,000 row is the bench dataset (50,000 accounts, "
                           "2,000 reps, 3 years); the other sizes are `rapport generate "
                           "--scale <n>` with the demo's proportions (at 1,000,000: 1,500 "
                           "accounts, 2 years)")
