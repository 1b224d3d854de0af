"""CSV that spreadsheets never execute: every CSV camfind writes goes through :class:`SafeDictWriter`.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel, LibreOffice and Google Sheets (OWASP "CSV injection"): a camera name, an owner, an
address or a watchlist label typed by someone else could start a program on the investigator's
machine. Such a text cell is written with a single quote in front (``'=HYPERLINK(...)``), which
spreadsheets show as text. Plain numbers (``-12.5``, ``+84``) are left as they are, so numeric
columns stay numbers. A text cell that itself begins with a quote gets one more, so the rule can
be undone without doubt: **a leading single quote in a camfind CSV cell is always camfind's; drop
it to recover the original text** (:func:`original_cell`). The JSON outputs keep every value as it is.

>>> neutral_cell("=1+2"), neutral_cell("-12.5"), neutral_cell("Cam -1"), neutral_cell("'quoted")
("'=1+2", '-12.5', 'Cam -1', "''quoted")
>>> original_cell(neutral_cell("@SUM(A1)"))
'@SUM(A1)'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (OWASP), and the quote itself.
FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutral_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will read it as text, never as a formula (non-text values unchanged)."""
    if not isinstance(value, str) or not value:
        return value
    first = value[0]
    if first == QUOTE or (first in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(value)):
        return QUOTE + value
    return value


def original_cell(text: str) -> str:
    """The text camfind was given, from a cell of a camfind CSV (the inverse of :func:`neutral_cell`)."""
    return text[1:] if text.startswith(QUOTE) else text


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """:class:`csv.DictWriter` whose rows pass through :func:`neutral_cell` (header names are camfind's)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: neutral_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
