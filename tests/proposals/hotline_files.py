"""Hotline exports (12345 工单) built in the test: CSV in any encoding, XLSX with openpyxl."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.proposals.conftest import API

HEADER = ["工单号", "来电时间", "来电人", "联系电话", "标题", "诉求内容", "类别", "所在乡镇（街道）",
          "地点", "估算金额（万元）"]
# Three good records: a hotline call, one by township code, one county-wide.
GOOD = [
    ["GD-2025-0001", "2025-03-15 09:12", "张大爷", "13800001111", "石佛村村道硬化",
     "村道一下雨就是泥，孩子上学、老人看病都不方便。", "交通出行", "金顺镇", "石佛村三组", "12.5"],
    ["GD-2025-0002", "2025/3/16 14:05", "李阿姨", "0832-1234567", "人民路安装路灯",
     "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。", "公共安全", "nanta", "人民路中段", ""],
    ["GD-2025-0003", "", "", "", "城区增设老年助餐点",
     "独居老人做饭难，希望在社区增设助餐点，解决吃饭问题。", "社会保障", "", "", "30万元"],
]


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, *,
              encoding: str = "utf-8-sig", title: str | None = None) -> bytes:
    """A CSV export; `title` puts a line above the header as some systems do."""
    out = io.StringIO()
    writer = csv.writer(out)
    if title:
        writer.writerow([title])
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header: list[str] | None = None, *,
               title: str | None = None) -> bytes:
    """An Excel workbook export (first sheet), cells as typed: numbers and dates too."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, world, cycle_id: str, data: bytes, *, name: str = "12345.csv",
           dry_run: bool = False, who: str = "gov_staff"):
    """POST the file to the import (a preview with dry_run)."""
    return client.post(f"{API}/cycles/{cycle_id}/proposals/import",
                       params={"dry_run": "true"} if dry_run else None,
                       files={"file": (name, data, "application/octet-stream")},
                       headers=world.headers(who))
