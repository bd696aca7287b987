"""CSV files of jurisdictions for the import tests."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AuditEntry, Jurisdiction
from tests.helpers import run

# 资阳市 with 乐至县 (already stored by the world as `lezhi`, without a division code) and a
# new county, listed children first: the import must create parents first.
ZIYANG = """code,name,level,parent_code,division_code
tianchi,天池镇,township,anyue2,512021100
anyue2,安岳县（导入）,county,ziyang,512021
ziyang,资阳市,city,sichuan,512000
sichuan,四川省,province,,510000
jinshun2,金顺镇（二）,township,lezhi,
"""
ZIYANG_CODES = {"tianchi", "anyue2", "ziyang", "sichuan", "jinshun2"}


def upload(client, headers, content: bytes | str, name: str = "jurisdictions.csv"):
    """POST /api/v1/jurisdictions/import with `content` as the multipart file."""
    data = content.encode() if isinstance(content, str) else content
    return client.post("/api/v1/jurisdictions/import", headers=headers,
                       files={"file": (name, data, "text/csv")})


def jurisdiction_count(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Jurisdiction)))


def audit_actions(client, action: str) -> list[AuditEntry]:
    return list(run(client, lambda s: s.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))))
