"""The pure rules of institution profiles and documents: Thai phone numbers,
administrative codes, the partial merge, file names and magic bytes."""
import pytest

from services.common.errors import LecError
from services.registry import documents, profiles
from services.registry.profile_schemas import thai_phone


@pytest.mark.parametrize("given, digits", [
    ("081-234-5678", "0812345678"), ("+66 81 234 5678", "0812345678"), ("053 123 456", "053123456"),
    ("02-123-4567", "021234567"), ("0612345678", "0612345678"),
])
def test_thai_phone_numbers(given, digits):
    assert thai_phone(given) == digits


@pytest.mark.parametrize("given", ["12345", "0112345678", "081234567", "08123456789", "phone", "", None])
def test_not_thai_phone_numbers(given):
    assert thai_phone(given) is None


def test_profile_validation_nests_the_codes_and_keeps_ce_years():
    ok = profiles.valid_profile("cdc", {"address": {"province_code": "50", "district_code": "5001",
                                                    "subdistrict_code": "500105"},
                                        "buildings": {"count": 1, "year_built": 2010}})
    assert ok["buildings"]["year_built"] == 2010
    for bad in ({"address": {"province_code": "50", "district_code": "1001"}},
                {"address": {"district_code": "5001", "subdistrict_code": "510101"}},
                {"buildings": {"year_built": 2553}}, {"capacity": -3}):
        with pytest.raises(LecError) as err:
            profiles.valid_profile("cdc", bad)
        assert err.value.code == "validation_error"
    with pytest.raises(LecError):
        profiles.valid_profile("school", {"buildings": {"count": 1}})
    with pytest.raises(LecError):
        profiles.valid_profile("lao", {"capacity": 1})


def test_partial_merge_one_level_deep_and_null_clears():
    current = {"contact": {"name": "ก", "phone": "0812345678"}, "capacity": 5}
    merged = profiles._merge(current, {"contact": {"phone": None, "email": "a@b.org"}, "capacity": None})
    assert merged == {"contact": {"name": "ก", "email": "a@b.org"}}
    assert current["capacity"] == 5  # not changed in place


def test_filenames_lose_directories_and_get_their_extension():
    assert documents.clean_filename("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert documents.clean_filename("C:\\scan\\คำสั่ง.pdf", "application/pdf") == "คำสั่ง.pdf"
    assert documents.clean_filename('a"b\r\n.jpeg', "image/jpeg") == "a_b__.jpeg"
    assert documents.clean_filename("", "image/png") == "document.png"
    assert documents.clean_filename("photo.pdf", "image/png") == "photo.png"


def test_magic_bytes_decide():
    documents.check_content("application/pdf", b"%PDF-1.7 ...")
    documents.check_content("image/png", b"\x89PNG\r\n\x1a\n....")
    documents.check_content("image/jpeg", b"\xff\xd8\xff\xe0....")
    for content_type, content, code in (("application/pdf", b"MZ\x90\x00", "invalid_document"),
                                        ("image/png", b"%PDF-1.4", "invalid_document"),
                                        ("text/html", b"<html>", "unsupported_media_type"),
                                        ("application/pdf", b"", "validation_error")):
        with pytest.raises(LecError) as err:
            documents.check_content(content_type, content)
        assert err.value.code == code


def test_thai_dates_in_the_buddhist_era():
    assert profiles.thai_date("2013-06-10") == "10 มิถุนายน 2556"
