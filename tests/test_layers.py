"""The layers of the code, as import rules that fail when a module reaches across them.

The repository has four layers and shared vocabulary below them, each a folder:

  shared     rapport/*.py (but the tools cli.py, contract_docs.py): facts every layer reads:
             paths, the data contract, error types, the page registry, the names of check
             statuses (rapport/check_results.py)
  pipeline   rapport/pipeline/: raw files -> warehouse: ingest, quarantine gate, dbt,
             checks, publish, incremental builds, Spark, the CRM importer, the build's merge
             of captures
  serving    rapport/serving/: warehouse -> viewer: the read-only reader and its queries,
             access control, the capture store the dashboard writes to, `rapport serve`
  dashboard  dashboard/: the Streamlit app (dashboard/app.py, dashboard/pages/, dashboard/ui/)

and the generator of demo data (rapport/generator/, with the `rapport generate` command)
and the tools (the command line rapport/cli.py; the benchmark tools/bench.py, a tool of the
checkout) on top. Each rule below names what a layer may not import; the test reads every
import statement (also those inside functions) with `ast`, so nothing has to run. A second
test follows what the dashboard loads when it starts (module-level imports only,
transitively) and fails if that pulls in dbt, great-expectations, Spark or Playwright: the
first page would then pay for them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SHARED = ("rapport.paths", "rapport.contract", "rapport.contract_schema", "rapport.errors",
          "rapport.pages", "rapport.check_results")
PIPELINE = ("rapport.pipeline",)
SERVING = ("rapport.serving",)
GENERATOR = ("rapport.generator",)
TOOLS = ("rapport.cli", "rapport.contract_docs", "tools")
DASHBOARD = ("dashboard",)

# (importer layer, imported layer, why not)
FORBIDDEN: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (SERVING, PIPELINE, "reading the warehouse never runs a build"),
    (SERVING, GENERATOR + TOOLS + DASHBOARD, "the serving layer is below the app and tools"),
    (PIPELINE, DASHBOARD + ("streamlit", "rapport.serving.auth", "rapport.serving.serve"),
     "a build runs without the app and its access control"),
    (PIPELINE, GENERATOR + TOOLS, "the pipeline reads files, not the generator"),
    (GENERATOR, PIPELINE + SERVING + TOOLS + DASHBOARD,
     "the generator writes raw files from the contract alone"),
    (DASHBOARD, PIPELINE + GENERATOR + TOOLS,
     "the app reads the served warehouse; it never builds one"),
    (SHARED, PIPELINE + SERVING + GENERATOR + TOOLS + DASHBOARD,
     "shared vocabulary depends on nothing above it"),
)

# Imports that cross a rule on purpose, each with its reason: (importer, imported): why.
# None today (the build reads the build history with rapport.serving.builds, as the Data
# quality page does: no rule forbids the pipeline the serving layer's readers).
EXCEPTIONS: dict[tuple[str, str], str] = {}

# the folders that gather a layer's modules: a module directly in one owns its private names,
# as one in rapport/ does (rapport.generator is one package: its modules share its names)
LAYER_FOLDERS = ("rapport.pipeline", "rapport.serving")

HEAVY = ("dbt", "great_expectations", "pyspark", "playwright")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, importer: str) -> str:
    # the dashboard's pages import its helpers as the top-level package `ui`
    if importer.startswith("dashboard") and (name == "ui" or name.startswith("ui.")):
        return f"dashboard.{name}"
    return name


def _imports(path: Path, module_level_only: bool = False, text: str | None = None) -> set[str]:
    """Modules imported by a file (absolute names; `from a import b` gives a and a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    importer = _module_name(path)
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(_resolve(alias.name, importer) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = _resolve(node.module, importer)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _sources() -> dict[str, Path]:
    files = [path for folder in ("rapport", "dashboard", "tools")
             for path in ROOT.joinpath(folder).rglob("*.py")]
    return {_module_name(path): path for path in files}


def _in(module: str, layer: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in layer)


def test_the_rules_name_real_modules():
    """A rule about a module that does not exist checks nothing: each prefix is a module."""
    sources = _sources()
    for prefix in SHARED + PIPELINE + SERVING + GENERATOR + TOOLS + DASHBOARD:
        assert any(_in(name, (prefix,)) for name in sources), f"{prefix}: no such module"


def test_every_module_is_in_one_layer():
    """The folders are the layers: a new module sits in one (a new top-level module is
    added to SHARED or TOOLS above)."""
    layers = (SHARED, PIPELINE, SERVING, GENERATOR, TOOLS, DASHBOARD)
    for name in _sources():
        if name != "rapport":
            found = [layer for layer in layers if _in(name, layer)]
            assert len(found) == 1, f"{name}: in {len(found)} layers"


def _violations(imports: dict[str, set[str]]) -> list[str]:
    """'module imports x (why)' for every import that breaks a rule."""
    broken = set()
    for module, imported_modules in imports.items():
        for imported in imported_modules:
            for importers, imported_layer, why in FORBIDDEN:
                if not _in(module, importers) or not _in(imported, imported_layer):
                    continue
                if any(module == source and _in(imported, (target,))
                       for source, target in EXCEPTIONS):
                    continue
                broken.add(f"{module}: imports {imported} ({why})")
    return sorted(broken)


def test_no_module_imports_across_a_layer_rule():
    imports = {module: _imports(path) for module, path in _sources().items()}
    broken = _violations(imports)
    assert not broken, "imports across layers:\n" + "\n".join(broken)


def test_a_forbidden_import_is_caught(monkeypatch):
    """The checker itself: a serving module that imports the build inside a function, and a
    page that imports the ingest, are both reported; an import listed in EXCEPTIONS is not."""
    probe = ROOT / "rapport" / "serving" / "probe.py"
    serving = _imports(probe, text="def f():\n    from rapport.pipeline import build\n")
    page = _imports(ROOT / "dashboard" / "pages" / "probe.py",
                    text="import rapport.pipeline.ingest\n")
    excused = _imports(ROOT / "rapport" / "serving" / "excused.py",
                       text="import rapport.pipeline.publish\n")
    monkeypatch.setitem(EXCEPTIONS, ("rapport.serving.excused", "rapport.pipeline.publish"),
                        "the checker's own test")
    broken = _violations({"rapport.serving.probe": serving, "dashboard.pages.probe": page,
                          "rapport.serving.excused": excused})
    assert broken == [
        ("dashboard.pages.probe: imports rapport.pipeline.ingest (the app reads the served "
         "warehouse; it never builds one)"),
        "rapport.serving.probe: imports rapport.pipeline (reading the warehouse never runs a build)",
        ("rapport.serving.probe: imports rapport.pipeline.build (reading the warehouse never "
         "runs a build)"),
    ]


def test_the_dashboard_starts_without_dbt_great_expectations_spark_or_playwright():
    sources = _sources()
    entry = [name for name in sources if name == "dashboard.app" or name.startswith(
        ("dashboard.pages.", "dashboard.ui."))]
    seen: set[str] = set()
    stack = list(entry)
    heavy: dict[str, str] = {}
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        path = sources.get(module)
        if path is None:
            continue
        for imported in _imports(path, module_level_only=True):
            top = imported.split(".")[0]
            if top in HEAVY:
                heavy.setdefault(imported, module)
            # a package's __init__ runs before any of its modules
            parts = imported.split(".")
            stack.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    assert not heavy, "the dashboard loads at start: " + ", ".join(
        f"{lib} (from {module})" for lib, module in sorted(heavy.items()))


def _private_imports(module: str, text: str, is_package: bool = False) -> list[str]:
    """`from rapport.x.y import _name`, or anything from a private module rapport.x._y, in
    a module outside what owns it (the subpackage rapport.x; a module directly in rapport/ or
    in a layer's folder, rapport.y or rapport.pipeline.y, itself): 'module: imports ...'."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                and node.module.startswith("rapport")):
            continue
        parts = node.module.split(".")
        private_at = next((i for i, part in enumerate(parts) if part.startswith("_")), None)
        if private_at is not None:  # a private module: its package owns it
            owner, names = ".".join(parts[:private_at]), [a.name for a in node.names]
        else:  # private names: the module's subpackage owns them (rapport.serving.queries.health's
            # are rapport.serving.queries'); a module directly in rapport/ or in a layer's folder
            # (rapport.pipeline.quarantine) owns its own
            parent = ".".join(parts[:-1])
            owner = parent if parent not in ("rapport",) + LAYER_FOLDERS else node.module
            names = [a.name for a in node.names if a.name.startswith("_")]
        if names and not (package == owner or package.startswith(owner + ".")):
            found += [f"{module}: imports {node.module}.{name}" for name in names]
    return found


def test_no_module_imports_another_packages_private_names():
    """Modules use each other's public builders: a leading underscore is private to its
    module's package (rapport.serving.queries._base serves rapport.serving.queries)."""
    broken = [line for module, path in sorted(_sources().items())
              for line in _private_imports(module, path.read_text(encoding="utf-8"),
                                           is_package=path.name == "__init__.py")]
    assert not broken, "private names imported across packages:\n" + "\n".join(broken)
    # the checker itself
    assert _private_imports("rapport.pipeline.incremental",
                            "from rapport.pipeline.quarantine import _q, gate_table\n") == [
        "rapport.pipeline.incremental: imports rapport.pipeline.quarantine._q"]
    assert _private_imports("dashboard.pages.x",
                            "from rapport.serving.queries._base import fetch\n") == [
        "dashboard.pages.x: imports rapport.serving.queries._base.fetch"]
    assert _private_imports("rapport.serving.queries.capture",
                            "from rapport.serving.queries._base import fetch\n") == []
    assert _private_imports("rapport.pipeline.checks.runner",
                            "from rapport.pipeline.checks.dbt_tests import _x\n") == []
    assert _private_imports("rapport.pipeline.captures",
                            "from rapport.serving.capture_store import _snapshot\n") == [
        "rapport.pipeline.captures: imports rapport.serving.capture_store._snapshot"]
