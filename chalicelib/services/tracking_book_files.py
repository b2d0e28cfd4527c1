"""The tracking book (services/tracking_book.py) as CSV and as XLSX laid out like the book: its columns, the
five dates grouped under "Ngày, tháng, năm", one line per dossier. The XLSX is written in openpyxl's
write-only mode: rows stream into the file instead of building every cell in memory first.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .spreadsheets import DAY_TIME, Styles, csv_document, local_naive, safe, safe_text, workbook_bytes

Row = dict[str, Any]
DATES = "Ngày, tháng, năm"


def _instant(key: str) -> Callable[[Row], datetime | None]:
    return lambda row: local_naive(datetime.fromisoformat(row[key])) if row.get(key) else None


def _contact(row: Row) -> str:
    applicant = row["applicant"]
    return "; ".join(p for p in (applicant.get("address"), applicant.get("phone")) if p)


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[Row], Any]
    width: float
    dated: bool = False  # under the "Ngày, tháng, năm" group, printed as a local date and time


COLUMNS: tuple[Column, ...] = (
    Column("STT", lambda r: r["number"], 6),
    Column("Mã hồ sơ", lambda r: r["code"], 26),
    Column("Tên thủ tục hành chính", lambda r: r["procedure"]["name"], 36),
    Column("Tên cá nhân, tổ chức", lambda r: r["applicant"]["name"], 24),
    Column("Địa chỉ, số điện thoại", _contact, 30),
    Column("Cơ quan chủ trì giải quyết", lambda r: r["competent_unit"]["name"], 26),
    Column("Nhận hồ sơ", _instant("taken_in_at"), 16, dated=True),
    Column("Hẹn trả kết quả", _instant("appointment_at"), 16, dated=True),
    Column("Chuyển hồ sơ đến cơ quan giải quyết", _instant("transferred_at"), 16, dated=True),
    Column("Có kết quả giải quyết", _instant("resolved_at"), 16, dated=True),
    Column("Trả kết quả cho cá nhân, tổ chức", _instant("returned_at"), 16, dated=True),
    Column("Trạng thái", lambda r: r["label"], 18),
    Column("Ghi chú", lambda r: r["note"], 30),
)
TITLE = "SỔ THEO DÕI HỒ SƠ"
FORM = "Mẫu số 06 (Thông tư 01/2018/TT-VPCP)"


def header() -> list[str]:
    return [f"{c.label} ({DATES.lower()})" if c.dated else c.label for c in COLUMNS]


def to_csv(book: dict[str, Any]) -> str:
    return csv_document(header(), ([c.value(row) for c in COLUMNS] for row in book["rows"]))


def to_xlsx(book: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    styles = Styles()
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("Sổ theo dõi hồ sơ")
    last = get_column_letter(len(COLUMNS))
    for index, c in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = c.width
    head = 6  # the title's four lines, a blank one, then two header rows: the date group, the labels
    # Sheet settings first: write-only mode writes them out with the first row.
    ws.freeze_panes = f"C{head + 2}"
    ws.print_title_rows = f"{head}:{head + 1}"
    ws.page_setup.orientation = "landscape"

    def cell(value: Any, font: Any = None, alignment: Any = None, border: bool = False, fill: Any = None,
             number_format: str | None = None) -> Any:
        out = WriteOnlyCell(ws, value=safe(value))
        if font is not None:
            out.font = font
        if alignment is not None:
            out.alignment = alignment
        if border:
            out.border = styles.border
        if fill is not None:
            out.fill = fill
        if number_format:
            out.number_format = number_format
        return out

    start, end = (date.fromisoformat(book[k]).strftime("%d/%m/%Y") for k in ("from", "to"))
    lines = [(TITLE, styles.title), (f"Đơn vị: {book['unit_name']} ({book['unit']})", styles.bold),
             (f"Từ ngày {start} đến ngày {end}: {book['count']} hồ sơ", styles.italic), (FORM, styles.italic)]
    for row, (text, font) in enumerate(lines, start=1):
        ws.append([cell(safe_text(text), font, styles.centre)])
        ws.merged_cells.add(f"A{row}:{last}{row}")
    ws.append([])

    def heading(text: str | None) -> Any:
        return cell(text, styles.bold, styles.centre, True, styles.header_fill)

    dated = [i for i, c in enumerate(COLUMNS, start=1) if c.dated]
    ws.append([heading(DATES if c.dated else c.label) for c in COLUMNS])
    ws.append([heading(c.label if c.dated else None) for c in COLUMNS])
    ws.merged_cells.add(f"{get_column_letter(dated[0])}{head}:{get_column_letter(dated[-1])}{head}")
    for index, c in enumerate(COLUMNS, start=1):
        if not c.dated:
            ws.merged_cells.add(f"{get_column_letter(index)}{head}:{get_column_letter(index)}{head + 1}")
    # One styled cell per column, its style copied onto each line's cells: setting the border, alignment and
    # format cell by cell looks each up again and took most of the time of a 5000-line book.
    looks = [cell(None, alignment=styles.wrap, border=True, number_format=DAY_TIME if c.dated else None)._style
             for c in COLUMNS]
    for row in book["rows"]:
        line = []
        for c, look in zip(COLUMNS, looks, strict=True):
            out: Any = WriteOnlyCell(ws, value=safe(c.value(row)))
            out._style = copy(look)
            line.append(out)
        ws.append(line)
    return workbook_bytes(workbook)

