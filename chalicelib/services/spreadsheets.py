"""What every spreadsheet the API hands out shares: text made safe to open, CSV as Excel reads it, the XLSX
styles of the official forms.

Files are presentation, like the forms in services/views.py: the use cases build the same dicts the JSON
answers carry, and the modules beside this one (report06_files.py, tracking_book.py) lay them out. openpyxl
is imported inside the functions that write a workbook: a cold start that serves JSON never pays for it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# A cell that starts with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP, "CSV
# injection"); the full-width forms too, which some locales accept. Tab and CR start a DDE payload.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Characters XML 1.0 cannot hold: openpyxl refuses the whole workbook for one of them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
BOM = "\ufeff"
DAY_TIME = "dd/mm/yyyy hh:mm"  # how the forms print an instant (local time), in Excel's words
PERCENT = "0.00%"


def safe_text(value: str) -> str:
    """Text that opens as text: a leading apostrophe before anything a spreadsheet would evaluate (the
    apostrophe stays visible, the formula never runs), and no character an XLSX cannot store."""
    text = _ILLEGAL_XML.sub("", value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe(value: Any) -> Any:
    """A cell value: text made safe, numbers and instants as they are, None as an empty cell."""
    return safe_text(value) if isinstance(value, str) else value


def csv_document(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """UTF-8 text with a byte-order mark (Excel then reads the Vietnamese right), CRLF line ends and quotes
    where RFC 4180 needs them; every text cell made safe."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_text(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return safe(value)


def local_naive(instant: datetime | None) -> datetime | None:
    """Excel has no time zones: an instant is written as the local wall time it reads in the province."""
    return instant.replace(tzinfo=None) if instant is not None else None


class Styles:
    """The forms' look: a bold centred title, bordered headers with wrapped text, bordered figures."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="808080")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.title = Font(bold=True, size=13)
        self.bold = Font(bold=True)
        self.italic = Font(italic=True)
        self.centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.wrap = Alignment(vertical="top", wrap_text=True)
        self.header_fill = PatternFill("solid", fgColor="DDEBF7")
        self.total_fill = PatternFill("solid", fgColor="F2F2F2")


def header_cell(ws: Worksheet, row: int, column: int, text: str, styles: Styles) -> None:
    cell = ws.cell(row=row, column=column, value=safe_text(text))
    cell.font, cell.alignment, cell.border, cell.fill = styles.bold, styles.centre, styles.border, styles.header_fill


def workbook_bytes(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
