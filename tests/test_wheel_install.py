"""rapport installed from its wheel works outside the checkout.

The wheel is built from this checkout (`uv build --wheel`) and installed, without its
dependencies, into a new virtual environment whose only other packages are the project
environment's installed dependencies (a path line in a .pth file: that makes them importable,
but not the editable install of this checkout, whose own .pth is not processed). Then, in an
empty folder outside the checkout: `rapport generate`, `rapport build`, and the dashboard's
router and every page under Streamlit's AppTest, all from the installed copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 600):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the new environment's python, a deployment folder outside the checkout, its env)."""
    work = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RAPPORT_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env["RAPPORT_LOCAL_MODE"] = "1"
    run([sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", str(work / "dist"),
         str(ROOT)], cwd=work, env=env)
    wheels = list((work / "dist").glob("rapport-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work, env=env)
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    cwd=work, env=env).stdout.strip())
    (site / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--no-deps",
         "--python", str(python), str(wheels[0])], cwd=work, env=env)
    deployment = work / "deployment"
    deployment.mkdir()
    return python, deployment, env


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    python, deployment, env = installed
    probe = ("import rapport, rapport.paths as p; print(rapport.__file__); "
             "print(p.TRANSFORMS_DIR); print(p.PROJECT_ROOT); print(p.IN_CHECKOUT)")
    out = run([str(python), "-c", probe], cwd=deployment, env=env).stdout.split()
    package, transforms, project_root, in_checkout = out
    assert not package.startswith(str(ROOT)) and "site-packages" in package
    assert transforms.endswith("rapport/_bundle/transforms") and not transforms.startswith(
        str(ROOT))
    assert Path(transforms, "dbt_project.yml").is_file()
    assert Path(project_root) == deployment.resolve() and in_checkout == "False"


def test_generate_build_and_every_page_work_from_the_installed_wheel(installed):
    python, deployment, env = installed
    rapport = str(python.parent / "rapport")
    run([rapport, "generate", "--scale", "3000", "--seed", "3", "--out", "data/raw"],
        cwd=deployment, env=env)
    built = run([rapport, "build"], cwd=deployment, env=env)
    assert "published" in built.stdout + built.stderr
    served = deployment / "data" / "warehouse" / "rapport.duckdb"
    assert served.is_file()

    # the router and every page it lists, under AppTest, from the installed copy
    script = """
import sys
from streamlit.testing.v1 import AppTest
from rapport.pages import PAGE_IDS
from rapport.paths import DASHBOARD_DIR
for page in PAGE_IDS:
    at = AppTest.from_file(str(DASHBOARD_DIR / "app.py"), default_timeout=120).run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    if at.exception:
        sys.exit(f"{page}: {at.exception[0].message}")
    titles = [t.value for t in at.title]
    print(page, titles)
"""
    shown = run([str(python), "-c", script], cwd=deployment, env=env).stdout
    for page in ("overview", "tiers", "health", "power_map", "scorecards", "data_quality"):
        assert f"{page} [" in shown and f"{page} []" not in shown, shown
