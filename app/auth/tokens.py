"""Bearer tokens for the API and the page session's contents, both signed, both stateless."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.config import Settings


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.effective_secret, salt="minsheng.api-token")


def issue_token(settings: Settings, user_id: str, token_version: int) -> str:
    """A signed bearer token naming the user and their token version."""
    return _serializer(settings).dumps({"u": user_id, "v": token_version})


def read_token(settings: Settings, token: str) -> tuple[str, int] | None:
    """The (user id, token version) of a valid, unexpired token, else None."""
    try:
        data = _serializer(settings).loads(token, max_age=settings.token_ttl_seconds)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    version = data.get("v")
    return (data["u"], version) if isinstance(version, int) else None
