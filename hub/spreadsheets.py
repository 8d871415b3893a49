"""Cells of every spreadsheet the project writes (CSV or XLSX): neutralised against formula injection.

OWASP "CSV Injection": a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return may be run as a
formula by Excel or LibreOffice (`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`). Such a cell is prefixed with a single
quote, which spreadsheets read as "this is text" and do not display.

One exception, decided for open data: a cell that is only a signed number (`+33238000010`, `+33 2 38 00 00 10`,
`-1.9021`) is left as it is. It holds no function, reference or operator between operands, so a spreadsheet can
only read it as a number (or fail to); prefixing it would corrupt the data·inclusion phone numbers (E.164 `+33…`)
and the negative longitudes west of Greenwich, and make the exports fail their own schema. Anything else after the
sign (`-2+3`, `+1)*cmd`, `-` alone) is neutralised.

Every writer of a spreadsheet calls `safe_cell` on every cell; XLSX writers also store the result as a string.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?: \d+)*(?:[.,]\d+)?(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> str:
    """The cell as text, with a leading `'` when a spreadsheet could take it for a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(values: list[Any]) -> list[str]:
    return [safe_cell(value) for value in values]
