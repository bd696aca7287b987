"""Swagger UI at /api/docs works under its Content-Security-Policy (app/main.py docs_csp):
the page starts, loads the OpenAPI document and lists the operations, with no CSP refusal."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, open_page


def test_the_api_docs_render_their_operations_under_the_csp(browser, live_server):
    page = open_page(browser, live_server, **DESKTOP)
    try:
        refused = []
        page.on("console", lambda msg: "Content Security Policy" in msg.text
                and refused.append(msg.text))
        response = page.goto("/api/docs")
        assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("minsheng")
        operations = page.locator(".opblock")
        expect(operations.first).to_be_visible()
        assert operations.count() > 50
        # an operation opens and shows its parameters (the UI's own scripts run)
        page.locator(".opblock-summary-path", has_text="/api/v1/cycles/{cycle_id}").first.click()
        expect(page.locator(".opblock.is-open .parameters").first).to_be_visible()
        assert refused == [] and page.problems == [], refused + page.problems
    finally:
        page.context.close()
