"""The benchmark's (tools/bench.py) measure of a run: its own peak memory, not the bench's."""

from __future__ import annotations

import subprocess
import sys

from rapport.paths import PROJECT_ROOT

# A bench process that has held 1 GiB measures `rapport --help` (tens of MB). Run in a
# fresh interpreter so that this test process's own peak does not matter.
SCRIPT = """
import os, sys
from pathlib import Path
from tools.bench import run_measured
log = Path(sys.argv[1])
small = run_measured(["--help"], dict(os.environ), log)
block = bytearray(1 << 30)
for i in range(0, len(block), 4096):
    block[i] = 1
del block
after = run_measured(["--help"], dict(os.environ), log)
print(small.returncode, small.max_rss, after.returncode, after.max_rss)
"""


def test_a_runs_peak_memory_is_its_own_not_the_benchs(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run.log")],
                          check=False, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    code_before, rss_before, code_after, rss_after = map(int, done.stdout.split())
    assert code_before == code_after == 0
    # measured: about 100 MB both times; straight from the bench process, the second read
    # at least 1.07 GB (the bench's own peak)
    assert 10_000_000 < rss_before < 400_000_000
    assert 10_000_000 < rss_after < 400_000_000
    assert (tmp_path / "run.log").read_text().startswith("usage")
    assert not list(tmp_path.glob(".*.peak-rss"))
