"""Packaging hook: the wheel carries, beside the Python package, what rapport runs with.

`rapport build` runs the dbt project (transforms/) and the great-expectations suites
(expectations/); `rapport serve` runs the Streamlit app (dashboard/) with the default
settings (config/dashboard.yml, .streamlit/config.toml). A wheel copies them into
rapport/_bundle/, where rapport.paths finds them when there is no checkout around the
package. An editable install (`pip install -e .`, the Makefile's) copies nothing: the
checkout is used as it is. Everything else about the package is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("transforms", "expectations", "dashboard", "config/dashboard.yml",
           "config/users.example.yml", ".streamlit/config.toml")
# dbt's and Python's working files, and deployment files, never travel with the code
LEFT_OUT = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml", "__pycache__",
                                  "*.pyc", "secrets.toml", "users.yml")


class BuildPyWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        bundle = Path(self.build_lib) / "rapport" / "_bundle"
        shutil.rmtree(bundle, ignore_errors=True)
        for item in BUNDLED:
            source, target = ROOT / item, bundle / item
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=LEFT_OUT)
            else:
                shutil.copy2(source, target)


setup(cmdclass={"build_py": BuildPyWithBundle})
