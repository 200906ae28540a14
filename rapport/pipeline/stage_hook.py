"""The one test hook of the pipeline: stop a build at a stage so a test can kill it there.

    RAPPORT_TEST_PAUSE_AT=<stage> rapport build ...

At `pause_at(stage)` the process prints `RAPPORT_TEST_PAUSE_AT: paused at <stage> (pid N)` and
sleeps (RAPPORT_TEST_PAUSE_SECONDS, default an hour) until the test kills it. A stage whose
work should go on while the test kills it (dbt: `during_dbt`) calls
`pause_at(stage, running=True)` first: the same line is printed 2 s later from a thread while
the work runs; should the work end before the test acted, `pause_at(stage)` after it pauses
as usual. Without the variable both calls do nothing. The stages: ingest, gate, dbt,
during_dbt, checks, publish (tests/test_kill_build.py).
"""

from __future__ import annotations

import os
import threading
import time

PAUSE_ENV = "RAPPORT_TEST_PAUSE_AT"
RUNNING_DELAY_S = 2.0


def _line(stage: str) -> str:
    return f"{PAUSE_ENV}: paused at {stage} (pid {os.getpid()})"


def pause_at(stage: str, *, running: bool = False) -> None:
    """Pause here when RAPPORT_TEST_PAUSE_AT names this stage (see the module)."""
    if os.environ.get(PAUSE_ENV) != stage:
        return
    if running:
        def announce() -> None:
            time.sleep(RUNNING_DELAY_S)
            print(_line(stage), flush=True)

        threading.Thread(target=announce, daemon=True).start()
        return
    print(_line(stage), flush=True)
    time.sleep(float(os.environ.get("RAPPORT_TEST_PAUSE_SECONDS", "3600")))
