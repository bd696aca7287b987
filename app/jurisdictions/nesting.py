"""How jurisdictions nest (行政区划层级) and what a 行政区划代码 must look like.

Pure rules, shared by adding one jurisdiction (`service.create`) and by the CSV import
(`imports.py`), so both refuse the same things with the same sentences:

- a province (省, 自治区, 直辖市) has no parent;
- a city (地级市, 自治州, 盟) sits in a province or at the top;
- a county (县, 市辖区, 县级市, 旗) sits in a city, directly in a province (a 直辖市's districts,
  a province's directly administered county-level cities) or at the top;
- a township (乡, 镇) or street (街道) sits in a county.

The division code (行政区划代码, GB/T 2260 and, for townships, GB/T 10114) is optional: six
digits for a province, city or county, nine for a township or street. A province's code ends
in 0000 and a city's in 00; a code begins with its parent's: a city's first two digits are its
province's, a county's first four its city's (first two when it sits directly in a province),
a township's or street's first six its county's.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_
from app.models import JurisdictionLevel

L = JurisdictionLevel

LEVEL_LABELS = {
    L.province: N_("省级"), L.city: N_("市级"), L.county: N_("县级"),
    L.township: N_("乡镇"), L.street: N_("街道"),
}
# Rank from the top: a parent always ranks above its children, so sorting by rank creates
# parents first.
LEVEL_RANK = {L.province: 0, L.city: 1, L.county: 2, L.township: 3, L.street: 4}
# The levels a jurisdiction of each level may sit in; None: at the top.
ALLOWED_PARENTS: dict[str, frozenset[str | None]] = {
    L.province: frozenset({None}),
    L.city: frozenset({None, L.province}),
    L.county: frozenset({None, L.city, L.province}),
    L.township: frozenset({L.county}),
    L.street: frozenset({L.county}),
}
DIVISION_DIGITS = {L.province: 6, L.city: 6, L.county: 6, L.township: 9, L.street: 9}
_PARENT_PREFIX = {L.province: 2, L.city: 4, L.county: 6}  # digits a child shares with a parent


@dataclass(frozen=True)
class Problem:
    """One broken rule: its code, the field at fault, and the sentence in English and Chinese."""

    code: str
    field: str
    message: str
    zh: str


def level_problem(level: str) -> Problem | None:
    """The level must be one of the five."""
    if level in LEVEL_RANK:
        return None
    return Problem("unknown_level", "level",
                   f"The level '{level[:20]}' is not one of province, city, county, township, "
                   "street.",
                   f"级别“{level[:20]}”无效，应为 province（省级）、city（市级）、county（县级）、"
                   "township（乡镇）或 street（街道）。")


def parent_problem(level: str, parent_code: str | None, parent_level: str | None) -> Problem | None:
    """Whether a jurisdiction of `level` may sit in a parent of `parent_level` (None: the top)."""
    allowed = ALLOWED_PARENTS[level]
    if parent_code is None:
        if None in allowed:
            return None
        return Problem("parent_required", "parent_code",
                       "A township or street sits in a county: name it in parent_code.",
                       "乡镇和街道须选择所属的县级区域（上级）。")
    if parent_level in allowed:
        return None
    if level == L.province:
        return Problem("parent_not_allowed", "parent_code",
                       "A province is at the top: leave parent_code empty.",
                       "省级区域不设上级，请将上级留空。")
    wanted = {L.city: ("a province", "省级区域"),
              L.county: ("a city or a province", "市级或省级区域"),
              L.township: ("a county", "县级区域"),
              L.street: ("a county", "县级区域")}[level]
    return Problem("wrong_parent_level", "parent_code",
                   f"A {level} sits in {wanted[0]}, but '{parent_code}' is a {parent_level}.",
                   f"{LEVEL_LABELS[level]}区域的上级应为{wanted[1]}，而“{parent_code}”是"
                   f"{LEVEL_LABELS.get(parent_level, parent_level)}。")


def division_code_problem(level: str, division_code: str | None, parent_level: str | None = None,
                          parent_division_code: str | None = None) -> Problem | None:
    """Whether `division_code` fits its level and its parent's code (either may be absent)."""
    if division_code is None:
        return None
    digits = DIVISION_DIGITS[level]
    if not (division_code.isascii() and division_code.isdigit()) or len(division_code) != digits:
        return Problem("division_code_format", "division_code",
                       f"The division code of a {level} is {digits} digits; "
                       f"'{division_code[:20]}' is not.",
                       f"{LEVEL_LABELS[level]}区域的行政区划代码应为 {digits} 位数字，"
                       f"“{division_code[:20]}”不是。")
    if level == L.province and not division_code.endswith("0000"):
        return Problem("division_code_format", "division_code",
                       f"A province's division code ends in 0000; '{division_code}' does not.",
                       f"省级行政区划代码以 0000 结尾，“{division_code}”不是。")
    if level == L.city and not division_code.endswith("00"):
        return Problem("division_code_format", "division_code",
                       f"A city's division code ends in 00; '{division_code}' does not.",
                       f"市级行政区划代码以 00 结尾，“{division_code}”不是。")
    if parent_level is None or parent_division_code is None:
        return None
    shared = _PARENT_PREFIX[parent_level]
    if division_code[:shared] == parent_division_code[:shared]:
        return None
    return Problem("division_code_mismatch", "division_code",
                   f"The division code {division_code} does not begin with the first {shared} "
                   f"digits of its parent's code {parent_division_code} "
                   f"({parent_division_code[:shared]}).",
                   f"行政区划代码 {division_code} 的前 {shared} 位应与上级的代码 "
                   f"{parent_division_code} 相同（{parent_division_code[:shared]}）。")
