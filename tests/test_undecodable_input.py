"""Bytes that are not UTF-8 text get 400 with the page error (JSON under /api), never a 500 —
wherever they come: a form's fields, a multipart part's name, file name or value, the query
string, the path; a cookie that is not UTF-8 is ignored, other headers are read as latin-1."""

from __future__ import annotations

import pytest

from tests.helpers import csrf

FORM = "application/x-www-form-urlencoded"


def _page_400(r) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    assert "提交的内容有误" in r.text


def _multipart(*parts: tuple[bytes, bytes, bytes | None]) -> bytes:
    """(name, value, filename or None) each, raw bytes, boundary B."""
    out = b""
    for name, value, filename in parts:
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        out += b"--B\r\nContent-Disposition: " + disposition + b"\r\n"
        if filename is not None:
            out += b"Content-Type: image/jpeg\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + b"--B--\r\n"


def test_the_reviewers_form_of_one_undecodable_byte_is_400(client):
    # printf 'username=\xff' | curl -X POST :PORT/login -H 'Cookie: csrftoken=a' ...
    r = client.post("/login", content=b"username=\xff",
                    headers={"Cookie": "csrftoken=a", "Content-Type": FORM})
    _page_400(r)


@pytest.mark.parametrize("body", [b"username=\xff&password=x", b"username=%ff&password=x",
                                  b"\xff=1&username=a&password=x", b"username=a&pass%C3=x",
                                  b"username=%E4%B8&password=x"])
def test_form_fields_that_are_not_utf8_are_400(client, world, body):
    token = csrf(client)
    r = client.post("/login", content=body + b"&csrftoken=" + token.encode(),
                    headers={"Content-Type": FORM})
    _page_400(r)


def test_a_form_in_utf8_still_goes_through(client, world):
    token = csrf(client)
    r = client.post("/login", content="username=张三&password=x&csrftoken=".encode() +
                    token.encode(), headers={"Content-Type": FORM})
    assert r.status_code == 401 and "用户名或密码" in r.text


@pytest.mark.parametrize("bad", [
    (b"csrftoken", b"\xff", None),            # the token itself (asgi-csrf decodes it)
    (b"\xffname", b"x", None),                # a field's name
    (b"title", b"\xff\xfe", None),            # a field's value
    (b"photos", b"\xff\xd8binary is fine", b"\xff.jpg"),  # a file's name
])
def test_multipart_names_file_names_and_values_that_are_not_utf8_are_400(client, world, bad):
    token = csrf(client).encode()
    parts = [(b"csrftoken", token, None)] if bad[0] != b"csrftoken" else []
    body = _multipart(*parts, bad)
    r = client.post("/cycles/nope/proposals/new", content=body,
                    headers={"Content-Type": "multipart/form-data; boundary=B"})
    _page_400(r)


def test_a_files_bytes_are_not_text_and_pass(client, world):
    token = csrf(client).encode()
    body = _multipart((b"csrftoken", token, None), (b"title", "路灯".encode(), None),
                      (b"photos", b"\xff\xd8\xff\xe0 not text", "照片.jpg".encode()))
    r = client.post("/cycles/nope/proposals/new", content=body,
                    headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code != 400 and r.status_code < 500, r.text[:300]  # past the check


def test_a_query_string_or_path_that_is_not_utf8_is_400(client, world):
    _page_400(client.get("/?q=%ff"))
    _page_400(client.get("/proposals/%ff%fe"))
    r = client.get("/api/v1/cycles?jurisdiction_code=%C3")
    assert r.status_code == 400 and r.json()["code"] == "invalid_encoding"
    assert client.get("/?q=%E8%B7%AF").status_code == 200  # 路, in UTF-8


def test_a_cookie_that_is_not_utf8_is_ignored(client, world):
    assert client.get("/", headers={"Cookie": b"other=\xff\xfe"}).status_code == 200
    token = csrf(client)
    client.cookies.clear()
    r = client.post("/login", headers={"Cookie": b"csrftoken=" + token.encode() + b"; x=\xff",
                                       "Content-Type": FORM},
                    content=b"username=nobody&password=x&csrftoken=" + token.encode())
    assert r.status_code == 401
    r = client.get("/api/v1/cycles", headers={"Cookie": b"x=\xff"})
    assert r.status_code == 200


@pytest.mark.parametrize("token", ["张三", "%E5%BC%A0"])
def test_a_csrf_token_that_is_not_ascii_is_400(client, world, token):
    csrf(client)
    body = f"username=a&password=b&csrftoken={token}".encode()
    _page_400(client.post("/login", content=body, headers={"Content-Type": FORM}))
    multipart = _multipart((b"csrftoken", token.encode(), None))
    if token.isascii():  # a header or a part is not percent-decoded: an ordinary wrong token
        return
    _page_400(client.post("/login", content=multipart,
                          headers={"Content-Type": "multipart/form-data; boundary=B"}))
    _page_400(client.post("/login", content=b"username=a&password=b",
                          headers={"Content-Type": FORM, "x-csrftoken": token.encode()}))


@pytest.mark.parametrize("name", [b"user-agent", b"accept-language", b"referer", b"hx-request",
                                  b"hx-current-url", b"x-csrftoken", b"authorization",
                                  b"if-none-match", b"x-forwarded-for", b"origin"])
def test_other_headers_with_undecodable_bytes_are_no_500(client, world, name):
    for method, path in (("GET", "/"), ("GET", "/api/v1/cycles"), ("POST", "/login")):
        r = client.request(method, path, headers={name.decode(): b"\xff\xfe x"},
                           content=b"username=a&password=b", )
        assert r.status_code < 500, (name, path, r.status_code)


def test_json_that_is_not_utf8_is_400(client, world):
    r = client.post("/api/v1/auth/token", content=b'{"username": "\xff", "password": "x"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422) and r.json()["code"]
