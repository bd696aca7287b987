"""Where the files the service reads at run time are: inside the installed package, or in the
source tree it runs from.

A wheel (``pip install .``, ``pip wheel .``) carries them in the package, copied there by the
build step in ``setup.py``: ``app/templates/``, ``app/migrations/``, ``app/alembic.ini`` and the
front-end assets in ``app/static/vendor/``. A checkout (an editable install, ``scripts/dev``)
reads ``templates/``, ``migrations/`` and ``alembic.ini`` at its top level and the assets from
``node_modules/``, where ``npm ci`` put them. See docs/packaging.md.

Only the standard library here: ``setup.py`` loads this file to know which assets to copy.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The source tree `app` is imported from, or None when it is imported from an installed wheel.
SOURCE_TREE: Path | None = (PACKAGE.parent if (PACKAGE.parent / "pyproject.toml").is_file()
                            and (PACKAGE.parent / "templates").is_dir() else None)
# The front-end assets we serve from our own origin (never a CDN), at the versions pinned in
# package-lock.json: the name they are served under (/static/vendor/NAME) → (npm package, file).
VENDOR_ASSETS = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
}
# Each package's licence (and Apache-2.0's NOTICE) travels with its files in a wheel, as
# app/static/vendor/<package>.<file>.
VENDOR_LICENSES = {"htmx.org": ("LICENSE",),
                   "swagger-ui-dist": ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt")}
BUNDLED_VENDOR = PACKAGE / "static" / "vendor"


class MissingAssets(RuntimeError):
    """The front-end assets are not where the service looks for them (npm ci has not run)."""


def _base() -> Path:
    """The folder holding templates/, migrations/ and alembic.ini."""
    return SOURCE_TREE if SOURCE_TREE is not None else PACKAGE


def templates_dir() -> Path:
    """The Jinja2 templates."""
    return _base() / "templates"


def migrations_dir() -> Path:
    """The Alembic migrations (env.py and versions/)."""
    return _base() / "migrations"


def alembic_ini() -> Path:
    """Alembic's configuration file."""
    return _base() / "alembic.ini"


def data_dir() -> Path:
    """Default home of the SQLite file and the photos: var/ of the checkout, or of the working
    directory for an installed package (never inside site-packages)."""
    return (SOURCE_TREE if SOURCE_TREE is not None else Path.cwd().resolve()) / "var"


def vendor_files(assets_dir: Path | None = None) -> dict[str, Path]:
    """Each asset's file: in `assets_dir` (laid out like node_modules) when given, else the
    copy inside the installed package, else the checkout's node_modules."""
    if assets_dir is None and SOURCE_TREE is None:
        return {name: BUNDLED_VENDOR / name for name in VENDOR_ASSETS}
    root = assets_dir if assets_dir is not None else SOURCE_TREE / "node_modules"
    return {name: root / package / path for name, (package, path) in VENDOR_ASSETS.items()}


def check_vendor_files(files: dict[str, Path]) -> None:
    """MissingAssets naming what is absent and how to get it, unless every file is there."""
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise MissingAssets(
            "front-end assets missing: " + ", ".join(missing) + ". In a checkout run `npm ci` "
            "(it installs htmx and Swagger UI at the versions pinned in package-lock.json); "
            "an installed package carries them (see docs/packaging.md).")
