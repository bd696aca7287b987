"""Security headers (app/middleware.py, app/main.py): Strict-Transport-Security when cookies are
Secure or the request came over HTTPS, and a CSP on Swagger UI's page that lets only its own
start-up script run. Behind a proxy: tests/test_serve_monitoring.py; in a browser:
tests/browser/test_api_docs_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.middleware import SecurityHeadersMiddleware

# ------------------------------------------------------------------ HSTS

def _tiny(**kwargs):
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("hi"))])
    return SecurityHeadersMiddleware(app, **kwargs)


def test_no_hsts_over_plain_http_without_secure_cookies(client):
    assert "strict-transport-security" not in client.get("/healthz").headers
    assert "strict-transport-security" not in TestClient(_tiny()).get("/").headers


def test_hsts_over_https(client):
    https = TestClient(client.app, base_url="https://testserver")
    r = https.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000"


def test_hsts_whenever_cookies_are_secure():
    r = TestClient(_tiny(hsts=True)).get("/")  # plain HTTP behind a proxy that speaks TLS
    assert r.headers["strict-transport-security"] == "max-age=31536000"


# ------------------------------------------------------------------ the API docs' CSP

def test_the_api_docs_have_a_csp_allowing_only_their_own_start_script(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    (script,) = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
