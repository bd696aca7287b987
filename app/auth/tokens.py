"""Bearer tokens for the API and the page session's contents, both signed, both stateless."""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.config import Settings


@lru_cache(maxsize=8)
def _serializer_for(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="minsheng.api-token")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    # One per secret: every API request reads a token, and building the signer each time cost
    # as much as checking the signature.
    return _serializer_for(settings.effective_secret)


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
