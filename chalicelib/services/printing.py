"""Printing: the forms of Circular 01/2018/TT-VPCP (carried into Circular 03/2025) as PDF.

Each form is the typed view its JSON answer already is (services/views.py, domain/notices.py), poured into a
Typst template of its own (chalicelib/templates/*.typ) and compiled with the `typst` package: one binary, its
fonts inside it (Libertinus Serif covers Vietnamese), every font embedded in the PDF, no system library read
(docs/forms.md says why this library). `typst` and `segno` are imported here only, when something is printed.

A form the dossier has no record for is a 404 that says so: nothing is printed from invented data. The forms
with no number in the Circular (the refusal after appraisal, the stop notice) are laid out as its letters are,
from the history line that recorded the decision.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ..domain.catalogue import UnitTree
from ..domain.dossier import Actor, Dossier, HistoryEntry
from ..domain.errors import FieldProblem, InvalidInput, NotFound, Unavailable
from ..domain.notices import local_date, local_time
from ..domain.status import Status
from .deps import Deps
from .queries import _readable, unit_names
from .views import (
    apology_view,
    control_sheet_view,
    guidance_view,
    local,
    receipt_view,
    refusal_view,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The forms of a dossier, by the name in GET /v1/dossiers/{code}/forms/{form}.pdf; 06 is the unit's book.
FORMS = ("01", "02", "03", "04", "05", "appraisal-refusal", "stop-notice")
FILE_NAMES = {"01": "giay-tiep-nhan", "02": "phieu-yeu-cau-bo-sung", "03": "phieu-tu-choi-tiep-nhan",
              "04": "phieu-xin-loi", "05": "phieu-kiem-soat", "appraisal-refusal": "thong-bao-tu-choi-giai-quyet",
              "stop-notice": "thong-bao-dung-giai-quyet"}
LOOKUP_PATH = "/v1/public/dossiers/{code}"

_compilers: dict[str, Any] = {}
_lock = threading.Lock()  # one compiler per template, kept warm for the container's life; one compile at a time


# The printing libraries: what a route 1 deployment leaves out (scripts/deploy_quick.py), since they would take
# the dependency layer over what `chalice deploy` may upload.
PRINTING_PACKAGES = ("typst", "segno")


def _printing_library(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Unavailable("printing is not installed in this deployment (a quick deploy leaves it out: "
                          "docs/deploy.md); the same form is served as JSON") from exc


def render(template: str, data: Mapping[str, Any], issued: datetime | None = None) -> bytes:
    """The PDF of `template` (a file in chalicelib/templates) filled with `data`. `issued` is the document's
    date in its metadata, so the same record prints the same bytes."""
    typst = _printing_library("typst")

    payload = json.dumps(data, ensure_ascii=False, default=str)
    with _lock:
        compiler = _compilers.get(template)
        if compiler is None:
            fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True)
            compiler = typst.Compiler(str(TEMPLATES / template), root=str(TEMPLATES), font_paths=fonts,
                                      ignore_system_fonts=True)
            _compilers[template] = compiler
        pdf = compiler.compile(format="pdf", sys_inputs={"data": payload},
                               timestamp=int(issued.timestamp()) if issued else 0)
    if not isinstance(pdf, bytes):
        raise RuntimeError(f"typst gave no PDF for {template}")
    return pdf


def qr_svg(text: str) -> str:
    """`text` as a QR code in SVG, error correction M (readable off a creased receipt)."""
    import io

    segno = _printing_library("segno")

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", border=2, xmldecl=False, svgns=True)
    return out.getvalue().decode("ascii")


def dossier_form(deps: Deps, actor: Actor, code: str, form: str, lookup_url: str,
                 receipt_secret: str | None = None) -> tuple[bytes, str]:
    """(PDF, file name) of `form` of the dossier `code`, to whoever may read the dossier.
    `lookup_url`: where the receipt's QR code leads, with `{code}` in it. `receipt_secret`: printed in its box on
    form 01 when the desk has just issued it (services/applicant_access.py `issue_receipt`); only its hash is
    stored, so a receipt printed again later carries none. It is never in the QR code: that is the public lookup."""
    if form not in FORMS:
        raise InvalidInput("unknown form", [FieldProblem("form", f"one of {', '.join(f + '.pdf' for f in FORMS)}")])
    dossier = _readable(deps, actor, code)
    names = unit_names(deps)
    tree = deps.catalogue.tree()
    data, issued = _FORM_DATA[form](deps, dossier, names)
    data = {**data, "code": dossier.code, "agency": agency(tree, data.pop("_unit")),
            "place_date": place_date(tree, dossier.receiving_unit, issued) if issued else None}
    if form == "01":
        url = lookup_url.replace("{code}", dossier.code)
        data.update(lookup_url=url, qr=qr_svg(url), secret=receipt_secret)
    return render(f"form-{form}.typ", data, issued), f"{FILE_NAMES[form]}_{dossier.code}.pdf"


def agency(tree: UnitTree, unit_id: str) -> dict[str, Any]:
    """The issuing agency's block: its name under its parent's, as the Circular's forms head a letter."""
    unit = tree.get(unit_id)
    if unit is None:
        return {"id": unit_id, "name": unit_id, "parent": None}
    parent = tree.get(unit.parent) if unit.parent else None
    return {"id": unit.id, "name": unit.name, "parent": parent.name if parent else None}


def place_name(tree: UnitTree, unit_id: str) -> str:
    """The province's name for the place-and-date line ("Thanh Hóa"), from the root of the unit's tree."""
    unit = tree.get(unit_id)
    while unit is not None and unit.parent and tree.get(unit.parent) is not None:
        unit = tree.get(unit.parent)
    if unit is None:
        return ""
    name = unit.name
    for word in ("tỉnh ", "thành phố "):
        if word in name:
            return name.split(word, 1)[1]
    return name


def place_date(tree: UnitTree, unit_id: str, at: datetime | str) -> str:
    place = place_name(tree, unit_id)
    return f"{place}, {local_date(at)}" if place else local_date(at).capitalize()


Names = Callable[[str], str]
FormData = tuple[dict[str, Any], datetime | None]


def _when(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _contact_text(person: Mapping[str, Any] | None, key: str) -> str | None:
    return str(person[key]) if person and person.get(key) else None


def _form_01(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    if dossier.received_at is None:
        raise NotFound(f"dossier {dossier.code} has no receipt (form 01): it was not received")
    view = receipt_view(dossier, names, reissued=_reissued(deps, dossier))
    scans = _digitised(deps, dossier)
    applicant, authorised = view["applicant"], view["authorised_person"]
    fee = view["fee"]
    text = {
        "address": _contact_text(applicant, "address"), "phone": _contact_text(applicant, "phone"),
        "email": _contact_text(applicant, "email"),
        "authorised": ", ".join(str(authorised[k]) for k in ("name", "phone", "authorisation") if authorised.get(k))
        if authorised else None,
        "documents": [[d["name"] or "", _with_scan(d["kind_label"], scans.get(d["name"] or "")), str(d["copies"])]
                      for d in view["documents"]],
        "received_at": local_time(view["received_at"]), "appointment_at": local_time(view["appointment_at"]),
        "fee": _fee_text(fee), "entry": str(view["tracking_book"]["entry_number"] or ""),
    }
    number = str(dossier.tracking_number)
    return {"title": view["title"], "view": view, "text": text, "number": number,
            "_unit": dossier.receiving_unit}, dossier.received_at


def _digitised(deps: Deps, dossier: Dossier) -> dict[str, str]:
    """How each component was digitised at the desk (services/documents.py): a note for the receipt's 'Hình thức'
    column; nothing where the deployment keeps no files."""
    if deps.file_records is None:
        return {}
    notes: dict[str, str] = {}
    for record in deps.file_records.of_dossier(dossier.code):
        if record["state"] != "verified" or record["kind"] != "component":
            continue
        if record.get("reused_from"):
            notes[record["component"]] = "tái sử dụng bản điện tử"
        else:
            pages = f", {record['pages']} trang" if record.get("pages") else ""
            notes[record["component"]] = f"đã số hóa{pages}"
    return notes


def _with_scan(kind_label: str | None, scan: str | None) -> str:
    return "; ".join(part for part in (kind_label, scan) if part)


def _reissued(deps: Deps, dossier: Dossier) -> bool:
    """Issued again when a complete supplement restarted the limit (services/actions.py does the same)."""
    return any(e.action == "receive_supplement" and e.details.get("restarted")
               for e in deps.dossiers.history(dossier.code))


def _fee_text(fee: Any) -> str | None:
    if not fee:
        return None
    if isinstance(fee, Mapping):
        amount = fee.get("amount")
        if isinstance(amount, (int, float)):
            return f"{int(amount):,} đồng".replace(",", ".") + (f" ({fee['note']})" if fee.get("note") else "")
        return ", ".join(f"{k}: {v}" for k, v in fee.items())
    return str(fee)


def _form_02(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    """At the desk (a dossier guided, not received) or, once received, the latest supplement request."""
    if dossier.status is Status.GUIDED:
        view = guidance_view(dossier, names)
        at, by, items = view["guided_at"], view["guided_by"]["name"], view["missing_items"]
        unit, reason = dossier.receiving_unit, None
    else:
        entry = _last(deps, dossier, "request_supplement")
        if entry is None:
            raise NotFound(f"dossier {dossier.code} has no form 02: no supplement was requested")
        view = guidance_view(dossier, names)
        at, by = local(entry.at), entry.officer
        items = list(entry.details.get("missing_items") or [])
        unit, reason = entry.officer_unit, entry.details.get("reason") or entry.note or None
        view.update(guided_at=at, missing_items=items, guided_by={"officer": by, "name": by})
    text = {"at": local_time(at), "address": _contact_text(view["applicant"], "address"),
            "phone": _contact_text(view["applicant"], "phone"), "reason": reason,
            "contact": names(dossier.receiving_unit)}
    return {"title": view["title"], "view": view, "text": text, "items": items, "signer": by,
            "number": str(dossier.tracking_number), "_unit": unit}, _when(at)


def _form_03(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    if dossier.status is not Status.NOT_ACCEPTED:
        raise NotFound(f"dossier {dossier.code} has no form 03: its intake was not refused")
    view = refusal_view(dossier, names)
    text = {"at": local_time(view["refused_at"]), "address": _contact_text(view["applicant"], "address"),
            "phone": _contact_text(view["applicant"], "phone")}
    return {"title": view["title"], "view": view, "text": text, "number": str(dossier.tracking_number),
            "_unit": dossier.receiving_unit}, _when(view["refused_at"])


def _form_04(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    view = apology_view(dossier, names)  # NotFound when no apology was issued
    return {"title": view["title"], "view": view, "number": None, "signer": view["issued_by"]["name"],
            "_unit": dossier.competent_unit}, _when(view["issued_at"])


def _form_05(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    view = control_sheet_view(dossier, deps.dossiers.history(dossier.code), names)
    header = view["header"]
    rows = [_control_line(e, names) for e in view["entries"]]
    text = {"received_at": local_time(header["received_at"]), "appointment_at": local_time(header["appointment_at"]),
            "coordinating": ", ".join(u["name"] for u in header["coordinating_units"]) or None}
    return {"title": view["title"], "view": view, "text": text, "rows": rows, "number": False,
            "_unit": dossier.receiving_unit}, None


_STEP_OUTCOME = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def _control_line(e: Mapping[str, Any], names: Names) -> list[str]:
    """One hand-over of form 05: who gave and who took it, when, what was done, in time or not, by whom."""
    units = (f"Giao: {e['from_unit_name'] or ''}\nNhận: {e['to_unit_name'] or ''}"
             if e["from_unit_name"] or e["to_unit_name"] else names(e["officer_unit"]))
    done = e["label"] + (f" ({e['step_name']})" if e["step_name"] else "")
    who = _breakable(e["officer"]) + (f"; {e['note']}" if e["note"] else "")
    return [units, local_time(e["at"]), done, _STEP_OUTCOME.get(e["step_outcome"] or "", ""), who]


def _closing(deps: Deps, dossier: Dossier, action: str, form: str) -> HistoryEntry:
    entry = _last(deps, dossier, action)
    if entry is None:
        done = "refused" if action == "refuse" else "stopped"
        raise NotFound(f"dossier {dossier.code} has no {form}: it was not {done}")
    return entry


def _appraisal_refusal(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    """A dossier refused after appraisal is returned with a written notice of the reasons: the `refuse` action
    and its result {kind: refused, reasons}. The Circular gives this letter no number of its own."""
    entry = _closing(deps, dossier, "refuse", "notice of refusal after appraisal")
    reasons = list((dossier.result or {}).get("reasons") or entry.details.get("result", {}).get("reasons") or [])
    return {"title": "Thông báo từ chối giải quyết hồ sơ", "view": _letter(dossier, entry, names),
            "reasons": reasons, "number": None, "signer": entry.officer,
            "_unit": dossier.competent_unit}, entry.at


def _stop_notice(deps: Deps, dossier: Dossier, names: Names) -> FormData:
    """The dossier's handling stopped at the applicant's request (the `stop` action, with its reason)."""
    entry = _closing(deps, dossier, "stop", "stop notice")
    return {"title": "Thông báo dừng giải quyết hồ sơ", "view": _letter(dossier, entry, names),
            "reason": str(entry.details.get("reason") or ""), "number": None, "signer": entry.officer,
            "_unit": dossier.competent_unit}, entry.at


def _letter(dossier: Dossier, entry: HistoryEntry, names: Names) -> dict[str, Any]:
    return {"applicant": dossier.applicant.get("name"), "procedure": f"{dossier.procedure_code} - "
            f"{dossier.procedure_name}", "received_at": local_time(dossier.received_at),
            "decided_at": local_time(entry.at), "unit": names(dossier.competent_unit), "officer": entry.officer,
            "label": entry.label}


def _last(deps: Deps, dossier: Dossier, action: str) -> HistoryEntry | None:
    found = [e for e in deps.dossiers.history(dossier.code) if e.action == action]
    return found[-1] if found else None


_FORM_DATA: dict[str, Callable[[Deps, Dossier, Names], FormData]] = {
    "01": _form_01, "02": _form_02, "03": _form_03, "04": _form_04, "05": _form_05,
    "appraisal-refusal": _appraisal_refusal, "stop-notice": _stop_notice,
}


def _breakable(officer: str) -> str:
    """An officer's id ("desk@000.00.24.H56") may break after "@" in a narrow column (a zero-width space)."""
    return officer.replace("@", "@\u200b")


def tracking_book_pdf(book: Mapping[str, Any]) -> bytes:
    """Form 06, the tracking book (services/tracking_book.py) in its printed layout: A4 landscape, the XLSX
    book's columns (services/tracking_book_files.py), each line's instants as local day and time."""
    from datetime import date

    from .tracking_book_files import COLUMNS, DATES, FORM, TITLE

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%d/%m/%Y %H:%M")
        return str(value)

    start, end = (date.fromisoformat(book[k]).strftime("%d/%m/%Y") for k in ("from", "to"))
    data = {"title": TITLE, "unit": book["unit"], "unit_name": book["unit_name"], "from": start, "to": end,
            "period": f"{start} - {end}", "count": book["count"], "form": FORM, "dates_label": DATES,
            "columns": [c.label for c in COLUMNS], "dated": [i for i, c in enumerate(COLUMNS) if c.dated],
            "rows": [[cell(c.value(row)) for c in COLUMNS] for row in book["rows"]]}
    return render("form-06.typ", data)
