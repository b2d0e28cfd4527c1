"""What the printed forms are made of besides the templates: where the receipt's QR code leads, the place in the
place-and-date line, the QR code itself."""

import pytest

from chalicelib.config import SettingsError, load
from chalicelib.domain.catalogue import Unit, UnitTree
from chalicelib.services import printing


@pytest.mark.parametrize("url", ["dichvucong.gov.vn/{code}", "https://dichvucong.gov.vn/tra-cuu",
                                 "https://dichvucong.gov.vn/{code}/{code}", "ftp://x.vn/{code}"])
def test_a_lookup_url_needs_a_scheme_a_host_and_one_code(url):
    with pytest.raises(SettingsError, match="MOTCUA_PUBLIC_LOOKUP_URL"):
        load({"MOTCUA_PUBLIC_LOOKUP_URL": url})


def test_a_lookup_url_with_its_code_is_kept():
    url = "https://dichvucong.thanhhoa.gov.vn/tra-cuu?ma={code}"
    assert load({"MOTCUA_PUBLIC_LOOKUP_URL": url}).public_lookup_url == url
    assert load({}).public_lookup_url == ""


def test_the_place_is_the_provinces_name_from_the_root_of_the_tree():
    tree = UnitTree([Unit("000.00.00.H56", "Ủy ban nhân dân tỉnh Thanh Hóa", "province"),
                     Unit("000.00.11.H56", "Sở Tư pháp tỉnh Thanh Hóa", "department", "000.00.00.H56"),
                     Unit("000.00.00.H29", "Ủy ban nhân dân thành phố Hà Nội", "province")])
    assert printing.place_name(tree, "000.00.11.H56") == "Thanh Hóa"
    assert printing.place_name(tree, "000.00.00.H29") == "Hà Nội"
    assert printing.place_date(tree, "000.00.11.H56", "2026-11-02T02:30:00+00:00") == \
        "Thanh Hóa, ngày 2 tháng 11 năm 2026"
    assert printing.agency(tree, "000.00.11.H56") == {
        "id": "000.00.11.H56", "name": "Sở Tư pháp tỉnh Thanh Hóa", "parent": "Ủy ban nhân dân tỉnh Thanh Hóa"}


def test_the_qr_code_is_an_svg_of_the_url():
    svg = printing.qr_svg("https://dichvucong.example.vn/tra-cuu?ma=000.00.24.H56-261102-0001")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "path" in svg
