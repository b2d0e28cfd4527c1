"""Report 06 as the files people paste into their reports: CSV, and XLSX laid out like the official form
(Circular 01/2020/TT-VPCP, biểu mẫu 06: "Tình hình, kết quả giải quyết thủ tục hành chính"), from the dict
services/reports.py's `report06` answers. No figure is computed here except the form's own "Tổng số" of the
dossiers to resolve (received for resolution in the period + carried over, as the form adds them, both at the
competent unit); each is a column of the JSON. The desk's intake in the period (total, online, direct or postal)
follows as its own subgroup: it counts at the receiving unit, which may not be the one that resolves.

Columns (docs/exports.md lists them with their JSON keys): the form's grouped columns, then what the JSON
adds (withdrawn, stopped, refused, not accepted, guided, supplement requests and violations, apologies,
rescheduled, the on-time rate). One row per unit, field or procedure, then the totals row ("Tổng cộng")
taken from the report's `total`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .spreadsheets import PERCENT, Styles, csv_document, header_cell, safe_text, workbook_bytes

if TYPE_CHECKING:
    from .deps import Deps

Figures = dict[str, Any]
RECEIVED, RESULTS = "Số hồ sơ nhận giải quyết", "Kết quả giải quyết"
NEW, DONE, OPEN = "Tiếp nhận tại bộ phận một cửa trong kỳ", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết"


@dataclass(frozen=True)
class Column:
    key: str  # the JSON field it shows (docs/exports.md); received.total_all is the form's own sum (for_resolution
    # + carried_over)
    top: str | None  # the group header over it (row 1 of the header), None: its label spans the header
    middle: str | None  # the subgroup (row 2), None: its label spans rows 2 and 3
    label: str
    value: Callable[[Figures], Any]
    width: float = 11
    rate: bool = False

    @property
    def title(self) -> str:
        """The CSV header: the labels from the group down, so that every header is unique and readable."""
        return " - ".join(p for p in (self.top, self.middle, self.label) if p)


def _at(*path: str) -> Callable[[Figures], Any]:
    def get(figures: Figures) -> Any:
        value: Any = figures
        for name in path:
            value = value[name]
        return value

    return get


COLUMNS: tuple[Column, ...] = (
    Column("received.total_all", RECEIVED, None, "Tổng số",
           lambda f: f["received"]["for_resolution"] + f["received"]["carried_over"]),
    Column("received.carried_over", RECEIVED, None, "Từ kỳ trước chuyển qua", _at("received", "carried_over")),
    Column("received.for_resolution", RECEIVED, None, "Trong kỳ nhận giải quyết", _at("received", "for_resolution")),
    Column("received.total", RECEIVED, NEW, "Tổng số", _at("received", "total")),
    Column("received.online", RECEIVED, NEW, "Trực tuyến", _at("received", "online")),
    Column("received.direct_or_postal", RECEIVED, NEW, "Trực tiếp, dịch vụ bưu chính",
           _at("received", "direct_or_postal"), 13),
    Column("resolved.total", RESULTS, DONE, "Tổng số", _at("resolved", "total")),
    Column("resolved.early", RESULTS, DONE, "Trước hạn", _at("resolved", "early")),
    Column("resolved.on_time", RESULTS, DONE, "Đúng hạn", _at("resolved", "on_time")),
    Column("resolved.late", RESULTS, DONE, "Quá hạn", _at("resolved", "late")),
    Column("in_progress.total", RESULTS, OPEN, "Tổng số", _at("in_progress", "total")),
    Column("in_progress.within_deadline", RESULTS, OPEN, "Trong hạn", _at("in_progress", "within_deadline")),
    Column("in_progress.overdue", RESULTS, OPEN, "Quá hạn", _at("in_progress", "overdue")),
    Column("withdrawn", None, None, "Rút hồ sơ", _at("withdrawn")),
    Column("stopped", None, None, "Dừng giải quyết", _at("stopped")),
    Column("refused", None, None, "Từ chối giải quyết", _at("refused"), 12),
    Column("not_accepted", None, None, "Không tiếp nhận (mẫu 03)", _at("not_accepted"), 13),
    Column("guided", None, None, "Hướng dẫn bổ sung, hoàn thiện (mẫu 02)", _at("guided"), 15),
    Column("supplement_requests", None, None, "Yêu cầu bổ sung hồ sơ", _at("supplement_requests"), 12),
    Column("supplement_violations", None, None, "Yêu cầu bổ sung không đúng quy định",
           _at("supplement_violations"), 14),
    Column("apologies", None, None, "Văn bản xin lỗi (mẫu 04)", _at("apologies"), 12),
    Column("rescheduled", None, None, "Hẹn lại ngày trả kết quả", _at("rescheduled"), 12),
    Column("digitisation.digitised", None, None, "Hồ sơ được số hóa", _at("digitisation", "digitised"), 12),
    Column("digitisation.digitised_at_receipt", None, None, "Số hóa đủ thành phần khi tiếp nhận",
           _at("digitisation", "digitised_at_receipt"), 14),
    Column("digitisation.reused", None, None, "Tái sử dụng dữ liệu số hóa", _at("digitisation", "reused"), 13),
    Column("digitisation.e_result", None, None, "Kết quả điện tử", _at("digitisation", "e_result"), 12),
    Column("on_time_rate", None, None, "Tỷ lệ giải quyết trước hạn và đúng hạn", _at("on_time_rate"), 14,
           rate=True),
)
ROW_LABEL = {"unit": "Đơn vị", "field": "Lĩnh vực", "procedure": "Thủ tục hành chính"}
TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
FORM = "Biểu mẫu 06 (Thông tư 01/2020/TT-VPCP)"
TOTAL = "Tổng cộng"
LEAD = 3  # STT, the row's name, its code
HEADER_ROW = 5  # the header's first row; the form's title, unit and period above it
BODY_ROW = HEADER_ROW + 4  # three header rows and the row of column numbers


def header(group_by: str) -> list[str]:
    return ["STT", ROW_LABEL[group_by], "Mã", *(c.title for c in COLUMNS)]


def to_csv(report: dict[str, Any], names: Callable[[str], str | None]) -> str:
    """One header row (Vietnamese, docs/exports.md), a row per report row, the totals row. The rate is the
    fraction the JSON has (0.8333), with a point: what a program reading the file expects."""
    rows = [[number, names(row["key"]) or row["key"], row["key"], *(c.value(row) for c in COLUMNS)]
            for number, row in enumerate(report["rows"], start=1)]
    rows.append(["", TOTAL, "", *(c.value(report["total"]) for c in COLUMNS)])
    return csv_document(header(report["group_by"]), rows)


def to_xlsx(report: dict[str, Any], names: Callable[[str], str | None], unit_name: str) -> bytes:
    from openpyxl import Workbook

    styles = Styles()
    workbook = Workbook()
    first = workbook.active
    assert first is not None  # a new workbook always has its first sheet
    _official_sheet(first, report, names, unit_name, styles)
    # The enriched sheet (apologies, supplements, violations, rescheduled, the desk's intake) comes second.
    ws = workbook.create_sheet("Chi tiết")
    _title(ws, report, unit_name, styles)
    _header(ws, report["group_by"], styles)
    row = BODY_ROW
    for number, item in enumerate(report["rows"], start=1):
        _figures(ws, row, [number, names(item["key"]) or item["key"], item["key"]], item, styles, total=False)
        row += 1
    _figures(ws, row, [TOTAL, None, None], report["total"], styles, total=True)  # over STT, name and code
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=LEAD)
    ws.freeze_panes = ws.cell(row=BODY_ROW, column=LEAD + 1).coordinate
    ws.print_title_rows = f"{HEADER_ROW}:{BODY_ROW - 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    return workbook_bytes(workbook)


# The official form's 13 columns (biểu 06a/06b, Circular 01/2020/TT-VPCP; as a real provincial system prints it):
# 1 TT, 2 unit; received 3 total, 4 online, 5 direct or postal, 6 carried over; resolved 7 total, 8 early,
# 9 on time, 10 late; in progress 11 total, 12 within the deadline, 13 overdue.
OFFICIAL: tuple[tuple[str, str, str], ...] = (
    ("received", "total", "Tổng số"), ("received", "online", "Trực tuyến"),
    ("received", "direct_or_postal", "Trực tiếp, dịch vụ bưu chính"), ("received", "carried_over", "Từ kỳ trước"),
    ("resolved", "total", "Tổng số"), ("resolved", "early", "Trước hạn"), ("resolved", "on_time", "Đúng hạn"),
    ("resolved", "late", "Quá hạn"), ("in_progress", "total", "Tổng số"),
    ("in_progress", "within_deadline", "Trong hạn"), ("in_progress", "overdue", "Quá hạn"),
)
OFFICIAL_GROUPS = {"received": "Số hồ sơ nhận giải quyết", "resolved": "Số hồ sơ đã giải quyết",
                   "in_progress": "Số hồ sơ đang giải quyết"}


def _official_sheet(ws: Any, report: dict[str, Any], names: Callable[[str], str | None], unit_name: str,
                    styles: Styles) -> None:
    """Biểu 06a (the resolving unit) or 06b (the province): the header, the period, the 13 numbered columns,
    a row per unit, field or procedure, the total, the reading applied and "Người làm báo cáo"."""
    from openpyxl.utils import get_column_letter

    form = report.get("form", "06a")
    period = report.get("period") or {}
    last = 13
    lines = [(f"Biểu số II.{form}/VPCP/KSTT", styles.italic), (TITLE, styles.title),
             (f"Đơn vị báo cáo: {unit_name} ({report['unit']})", styles.bold),
             (str(period.get("label") or ""), styles.italic), ("Đơn vị tính: số hồ sơ TTHC", styles.italic)]
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=safe_text(text))
        cell.font, cell.alignment = font, styles.centre
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    top, low = 7, 8
    _span(ws, top, 1, low, 1, "TT", styles)
    _span(ws, top, 2, low, 2, ROW_LABEL[report["group_by"]], styles)
    column = 3
    for group, title in OFFICIAL_GROUPS.items():
        width = sum(1 for g, _, _ in OFFICIAL if g == group)
        _span(ws, top, column, top, column + width - 1, title, styles)
        column += width
    for index, (_, _, label) in enumerate(OFFICIAL, start=3):
        header_cell(ws, low, index, label, styles)
        ws.column_dimensions[get_column_letter(index)].width = 12
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 6, 40
    ws.row_dimensions[low].height = 45
    for index in range(1, last + 1):
        cell = ws.cell(row=low + 1, column=index, value=f"({index})")
        cell.font, cell.alignment, cell.border = styles.italic, styles.centre, styles.border
    row = low + 2
    body = [(str(n), names(item["key"]) or item["key"], item["official"])
            for n, item in enumerate(report["rows"], start=1)]
    body.append(("", TOTAL, report["total"]["official"]))
    for number, name, figures in body:
        values = [number, name, *(figures[group][key] for group, key, _ in OFFICIAL)]
        for index, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=index, value=safe_text(value) if isinstance(value, str) else value)
            cell.border = styles.border
            if not number:
                cell.font, cell.fill = styles.bold, styles.total_fill
        row += 1
    note = (report.get("reading_applied") or {}).get("note")
    for text in ("Ghi chú: hồ sơ từ chối giải quyết sau thẩm định là kết quả giải quyết (mã 9 trên Cổng DVCQG).",
                 f"Ghi chú: {note}." if note else "", "Người làm báo cáo"):
        if text:
            row += 1
            ws.cell(row=row, column=1, value=safe_text(text)).font = styles.italic
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    ws.title = f"Biểu {form}"


def _title(ws: Any, report: dict[str, Any], unit_name: str, styles: Styles) -> None:
    last = LEAD + len(COLUMNS)
    start, end = (date.fromisoformat(report[k]).strftime("%d/%m/%Y") for k in ("from", "to"))
    lines = [(TITLE, styles.title), (f"Đơn vị: {unit_name} ({report['unit']})", styles.bold),
             (f"Kỳ báo cáo: từ ngày {start} đến ngày {end}", styles.italic), (FORM, styles.italic)]
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=safe_text(text))
        cell.font, cell.alignment = font, styles.centre
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)


def _header(ws: Any, group_by: str, styles: Styles) -> None:
    """Three header rows: the groups, the subgroups, the labels; a label without a group spans the rows
    above it. Then the row of column numbers the official forms print, (1), (2)..."""
    top, mid, low = HEADER_ROW, HEADER_ROW + 1, HEADER_ROW + 2
    from openpyxl.utils import get_column_letter

    for column, (text, width) in enumerate(zip(("STT", ROW_LABEL[group_by], "Mã"), (6, 40, 14), strict=True),
                                           start=1):
        _span(ws, top, column, low, column, text, styles)
        ws.column_dimensions[get_column_letter(column)].width = width
    for index, c in enumerate(COLUMNS):
        column = LEAD + 1 + index
        ws.column_dimensions[get_column_letter(column)].width = c.width
        if c.top is None:
            _span(ws, top, column, low, column, c.label, styles)
        elif c.middle is None:
            _span(ws, mid, column, low, column, c.label, styles)
        else:
            header_cell(ws, low, column, c.label, styles)
    for level, row in (("top", top), ("middle", mid)):
        for first, last, text in _runs(level):
            _span(ws, row, first, row, last, text, styles)
    ws.row_dimensions[low].height = 45
    for column in range(1, LEAD + len(COLUMNS) + 1):
        cell = ws.cell(row=low + 1, column=column, value=f"({column})")
        cell.font, cell.alignment, cell.border = styles.italic, styles.centre, styles.border


def _runs(level: str) -> list[tuple[int, int, str]]:
    """Consecutive columns with the same group (or subgroup): the cells merged over them."""
    runs: list[tuple[int, int, str]] = []
    for index, c in enumerate(COLUMNS):
        text = getattr(c, level)
        column = LEAD + 1 + index
        if text is None or (level == "middle" and c.middle is None):
            continue
        if runs and runs[-1][2] == text and runs[-1][1] == column - 1 and \
                (level == "top" or COLUMNS[index - 1].top == c.top):
            runs[-1] = (runs[-1][0], column, text)
        else:
            runs.append((column, column, text))
    return runs


def _span(ws: Any, row: int, column: int, end_row: int, end_column: int, text: str, styles: Styles) -> None:
    for r in range(row, end_row + 1):
        for col in range(column, end_column + 1):
            header_cell(ws, r, col, text if (r, col) == (row, column) else "", styles)
    if (row, column) != (end_row, end_column):
        ws.merge_cells(start_row=row, start_column=column, end_row=end_row, end_column=end_column)


def _figures(ws: Any, row: int, lead: list[Any], figures: Figures, styles: Styles, total: bool) -> None:
    for column, value in enumerate([*lead, *(c.value(figures) for c in COLUMNS)], start=1):
        cell = ws.cell(row=row, column=column, value=safe_text(value) if isinstance(value, str) else value)
        cell.border = styles.border
        if column > LEAD and COLUMNS[column - LEAD - 1].rate:
            cell.number_format = PERCENT
        if column == 2:
            cell.alignment = styles.wrap
        if total:
            cell.font, cell.fill = styles.bold, styles.total_fill


def row_names(deps: Deps, group_by: str) -> Callable[[str], str | None]:
    """The name printed for a row's key: the unit's, or the field's or procedure's from the catalogue (the
    JSON carries only units' names); a key the catalogue no longer knows prints as itself."""
    if group_by == "unit":
        tree = deps.catalogue.tree()
        return lambda key: unit.name if (unit := tree.get(key)) is not None else None
    procedures = deps.catalogue.procedures()
    if group_by == "field":
        fields = {p.field.get("code"): p.field.get("name") for p in procedures}
        return lambda key: fields.get(key)
    by_code = {p.code: p.name for p in procedures}
    return lambda key: by_code.get(key)
