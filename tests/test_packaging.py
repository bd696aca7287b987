"""The package runs wherever it is installed: templates, migrations and the pinned htmx and
Swagger UI travel inside the wheel; a checkout without `npm ci` refuses to start, loudly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from app import resources
from app.config import Settings
from app.main import create_app
from tests.conftest import ROOT, _free_port

# What a source tree copy for a build leaves out: installed or generated things.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "var",
                                    "*.egg-info", "__pycache__", "test-artifacts", ".pytest_cache",
                                    ".hypothesis", ".ruff_cache")


def test_a_checkout_reads_its_own_templates_migrations_and_node_modules():
    assert resources.SOURCE_TREE == ROOT
    assert resources.templates_dir() == ROOT / "templates"
    assert resources.migrations_dir() == ROOT / "migrations"
    assert resources.alembic_ini() == ROOT / "alembic.ini"
    files = resources.vendor_files()
    assert files["htmx.min.js"] == ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    settings = Settings(env="development")
    assert settings.database_url == f"sqlite:///{ROOT / 'var' / 'minsheng.db'}"
    assert settings.media_dir == ROOT / "var" / "media"


def test_without_the_front_end_assets_the_service_refuses_to_start_and_says_npm_ci(tmp_path):
    with pytest.raises(resources.MissingAssets, match="npm ci"):
        create_app(Settings(env="development", assets_dir=tmp_path,
                            database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    env = {**os.environ, "MINSHENG_ENV": "development", "MINSHENG_ASSETS_DIR": str(tmp_path),
           "MINSHENG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    r = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", str(_free_port())],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "htmx.min.js" in r.stderr and "run `npm ci`" in r.stderr


def _source_copy(dest: Path, *, node_modules: bool) -> Path:
    """The checkout's source files in `dest` (node_modules linked, or left out)."""
    shutil.copytree(ROOT, dest, ignore=NOT_SOURCE)
    if node_modules:
        (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return dest


def _build_wheel(source: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           "--wheel-dir", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_wheel_build_without_npm_ci_stops_and_says_what_to_run(tmp_path):
    r = _build_wheel(_source_copy(tmp_path / "src", node_modules=False), tmp_path / "dist")
    assert r.returncode != 0
    assert "node_modules/htmx.org/package.json is missing: run `npm ci`" in r.stdout + r.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


def _fresh_venv(path: Path) -> Path:
    """A virtual environment whose dependencies come from the test run's own environment (a
    .pth line; the `minsheng` package itself is installed from the wheel)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def _get(base: str, path: str) -> httpx.Response:
    r = httpx.get(base + path, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r


@pytest.mark.slow
def test_the_built_wheel_installed_elsewhere_serves_pages_htmx_and_swagger_ui(tmp_path):
    r = _build_wheel(_source_copy(tmp_path / "src", node_modules=True), tmp_path / "dist")
    assert r.returncode == 0, r.stdout + r.stderr
    wheel = next((tmp_path / "dist").glob("minsheng-*.whl"))
    python = _fresh_venv(tmp_path / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, timeout=300)
    shutil.rmtree(tmp_path / "src")  # nothing may be read from the tree it was built from

    run = tmp_path / "elsewhere"
    run.mkdir()
    minsheng = tmp_path / "venv" / "bin" / "minsheng"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(run),
           "MINSHENG_ENV": "development", "MINSHENG_PAGE_CACHE_SECONDS": "0"}
    where = subprocess.run(
        [str(python), "-c", "import app, app.resources as r, app.config as c; "
                            "print(app.__file__); print(r.SOURCE_TREE); "
                            "print(c.get_settings().database_url)"],
        cwd=run, env=env, capture_output=True, text=True, check=True).stdout.split("\n")
    assert where[0].startswith(str(tmp_path / "venv")) and not where[0].startswith(str(ROOT))
    assert where[1] == "None"
    # The default database (and photos) go to var/ of the working folder, not site-packages.
    assert where[2] == f"sqlite:///{run.resolve() / 'var' / 'minsheng.db'}"

    env["MINSHENG_DATABASE_URL"] = f"sqlite:///{run / 'minsheng.db'}"
    up = subprocess.run([str(minsheng), "db", "upgrade"], cwd=run, env=env,
                        capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    assert (run / "minsheng.db").is_file()

    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(minsheng), "serve", "--port", str(port), "--no-access-log"],
                                cwd=run, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        home = _get(base, "/")
        assert '<script src="/static/vendor/htmx.min.js"' in home.text  # packaged base.html
        assert "htmx" in _get(base, "/static/vendor/htmx.min.js").text[:2000]
        docs = _get(base, "/api/docs").text
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs)
        assert {"/static/vendor/swagger-ui-bundle.js", "/static/vendor/swagger-ui.css"} <= set(assets)
        for path in assets:
            _get(base, path)
        assert _get(base, "/api/v1/openapi.json").json()["info"]["title"].startswith("minsheng")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
