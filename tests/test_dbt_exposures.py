"""dbt exposures (transforms/models/marts/_exposures.yml) say which marts each dashboard page
reads, so `dbt docs` shows the dashboard's lineage. They are written by hand; this test derives
the same lists from the code (the `q.<function>(` calls of each page and of the shared ui/
modules, and the `marts.<table>` names in those functions and the helpers they call) and
fails when a page starts or stops reading a mart without the exposure saying so."""

from __future__ import annotations

import inspect
import re

import yaml

from rapport.paths import DASHBOARD_DIR, TRANSFORMS_DIR
from rapport.serving import queries as q

EXPOSURES = TRANSFORMS_DIR / "models" / "marts" / "_exposures.yml"


def _marts_of(function, seen: set) -> set[str]:
    if function in seen:
        return set()
    seen.add(function)
    source = inspect.getsource(function)
    found = set(re.findall(r"marts\.([a-z_]+)", source))
    module = inspect.getmodule(function)
    for name in re.findall(r"\b([A-Za-z_]+)\(", source):
        other = getattr(module, name, None)
        if inspect.isfunction(other) and other.__module__.startswith("rapport.serving"):
            found |= _marts_of(other, seen)
    return found


def _read_by(path) -> set[str]:
    marts: set[str] = set()
    for name in set(re.findall(r"\bq\.([a-z_]+)\(", path.read_text(encoding="utf-8"))):
        function = getattr(q, name, None)
        if inspect.isfunction(function):
            marts |= _marts_of(function, set())
    return marts


def test_every_page_has_an_exposure_listing_the_marts_it_reads():
    shared = set().union(*(_read_by(p) for p in (DASHBOARD_DIR / "ui").glob("*.py")))
    pages = {p.stem: _read_by(p) | shared for p in (DASHBOARD_DIR / "pages").glob("*.py")}
    exposures = {e["name"].removeprefix("dashboard_"): e
                 for e in yaml.safe_load(EXPOSURES.read_text(encoding="utf-8"))["exposures"]}
    assert set(exposures) == set(pages), "one exposure per page in dashboard/pages/"
    for page, marts in pages.items():
        assert marts, f"{page}: reads no mart? the analysis found nothing"
        listed = {re.fullmatch(r"ref\('([a-z_]+)'\)", d).group(1)
                  for d in exposures[page]["depends_on"]}
        assert listed == marts, (f"{page}: exposure lists {sorted(listed)}, the code reads "
                                 f"{sorted(marts)}; update {EXPOSURES.name}")
        assert exposures[page]["url"].endswith(f"/{page}")
