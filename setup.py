"""The build step that makes a wheel self-contained (the project's metadata is in pyproject.toml).

Beside the `app` package, the service reads files that live at the top of the repository:
templates/, migrations/, alembic.ini, and htmx and Swagger UI, which `npm ci` installs into
node_modules/ at the versions pinned in package-lock.json. A wheel gets copies of all of them
inside the package (app/templates/, app/migrations/, app/alembic.ini, app/static/vendor/), so it
runs from any folder on any machine; app/resources.py finds them there, or in the checkout for
an editable install. A build without node_modules, or with other versions than the lock file's,
stops with a message saying what to run. See docs/packaging.md.
"""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

HERE = Path(__file__).resolve().parent
RESOURCES = runpy.run_path(str(HERE / "app" / "resources.py"))
# Top-level files and folders → where they go inside the package.
TREES = {"templates": "templates", "migrations": "migrations"}
FILES = {"alembic.ini": "alembic.ini"}


def _pinned_version(lock: dict, package: str) -> str:
    entry = lock.get("packages", {}).get(f"node_modules/{package}")
    if not entry:
        raise SetupError(f"package-lock.json does not pin {package}.")
    return entry["version"]


def _vendor_sources() -> dict[str, Path]:
    """Each file to put in app/static/vendor/ and where it comes from, after checking that
    node_modules holds exactly the versions package-lock.json pins."""
    lock = json.loads((HERE / "package-lock.json").read_text(encoding="utf-8"))
    node_modules = HERE / "node_modules"
    packages = {package for package, _ in RESOURCES["VENDOR_ASSETS"].values()}
    for package in sorted(packages):
        manifest = node_modules / package / "package.json"
        if not manifest.is_file():
            raise SetupError(
                f"{manifest.relative_to(HERE)} is missing: run `npm ci` before building "
                "(the wheel carries htmx and Swagger UI at the versions in package-lock.json).")
        installed = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        pinned = _pinned_version(lock, package)
        if installed != pinned:
            raise SetupError(f"node_modules has {package} {installed}, package-lock.json pins "
                             f"{pinned}: run `npm ci` before building.")
    sources = {name: node_modules / package / path
               for name, (package, path) in RESOURCES["VENDOR_ASSETS"].items()}
    for package, files in RESOURCES["VENDOR_LICENSES"].items():
        for file in files:
            sources[f"{package}.{file}"] = node_modules / package / file
    for path in sources.values():
        if not path.is_file():
            raise SetupError(f"{path.relative_to(HERE)} is missing: run `npm ci` before building.")
    return sources


def _ignore_caches(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}


class BuildWithResources(build_py):
    """build_py, then the run-time files copied into the built package (not for -e installs,
    which read them from the checkout)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "app"
        for source, name in TREES.items():
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(HERE / source, dest, ignore=_ignore_caches)
        for source, name in FILES.items():
            shutil.copyfile(HERE / source, target / name)
        vendor = target / "static" / "vendor"
        vendor.mkdir(parents=True, exist_ok=True)
        for name, source in _vendor_sources().items():
            shutil.copyfile(source, vendor / name)


setup(cmdclass={"build_py": BuildWithResources})
