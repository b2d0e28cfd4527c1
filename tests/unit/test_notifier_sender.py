"""The SES sender's display name is sent in the form SES accepts, accents included."""

from email.header import decode_header, make_header
from email.utils import parseaddr

from chalicelib.adapters.notifiers import encoded_sender


def test_a_vietnamese_display_name_is_rfc2047_encoded_and_decodes_back():
    sender = encoded_sender("Một cửa Thanh Hóa <no-reply@motcua.thanhhoa.gov.vn>")
    assert sender.isascii()
    name, address = parseaddr(sender)
    assert address == "no-reply@motcua.thanhhoa.gov.vn"
    assert str(make_header(decode_header(name))) == "Một cửa Thanh Hóa"


def test_a_bare_address_is_left_as_it_is():
    assert encoded_sender("no-reply@motcua.gov.vn") == "no-reply@motcua.gov.vn"
