"""The learner file format: headers, spreadsheet value forms, incremental CSV, XLSX."""
import codecs
import datetime as dt
import io
import tracemalloc

import pytest
from openpyxl import Workbook

from services.common.errors import LecError
from gateway import fileformat as ff
from tests import xlsx_bombs as bombs


class Trickle(io.RawIOBase):
    """A stream that hands out a few bytes at a time, like a slow upload."""

    def __init__(self, data, step=7):
        self.data = data
        self.pos = 0
        self.step = step
        self.reads = 0

    def readable(self):
        return True

    def read(self, size=-1):
        self.reads += 1
        n = self.step if size is None or size < 0 else min(size, self.step)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


def parse(data, step=7):
    stream = Trickle(data, step)
    head, kind = ff.sniff(stream)
    assert kind == "csv"
    return list(ff.records(ff.read_csv(head, stream))), stream


@pytest.mark.parametrize("value,expected", [
    ("ป.1", "p1"), ("ป 6", "p6"), ("อ.2", "k2"), ("อนุบาล 3", "k3"), ("ม.๔", "m4"),
    ("มัธยมศึกษาปีที่ 6", "m6"), ("P1", "p1"), ("cdc", "cdc"), ("ศพด.", "cdc"), ("ป.9", "p9"),
    ("ชั้นพิเศษ", "ชั้นพิเศษ"), (None, None),
])
def test_grade_forms(value, expected):
    assert ff.grade(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("01/06/2560", "2017-06-01"), ("1/6/2017", "2017-06-01"), ("2560-06-01", "2017-06-01"),
    ("2017-06-01", "2017-06-01"), ("1 มิถุนายน 2560", "2017-06-01"), ("๕ มิ.ย. ๒๕๖๐", "2017-06-05"),
    (dt.datetime(2017, 6, 1, 0, 0), "2017-06-01"), (dt.date(2560, 6, 1), "2017-06-01"),
    ("31/02/2560", "31/02/2560"), ("เมื่อวาน", "เมื่อวาน"),
])
def test_birth_date_forms(value, expected):
    assert ff.birth_date(value) == expected


def test_sex_text_and_identity_forms():
    assert [ff.sex(v) for v in ("ชาย", "หญิง", "m", "Female", "1", "2", "x")] == \
        ["M", "F", "M", "F", "M", "F", "x"]
    assert ff.text(1234545678781.0) == "1234545678781" and ff.text(12) == "12"
    assert ff.identity("g644200000001") == (None, "g644200000001")
    assert ff.identity(3100600445635) == ("3100600445635", None)


def test_thai_headers_bom_crlf_and_blank_rows_read_incrementally():
    text = ("\ufeffลำดับ,เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,เพศ,วันเดือนปีเกิด,ชั้น,สัญชาติ,หมายเหตุ\r\n"
            "1,3100600445635,เด็กชาย,สมชาย,\"ใจดี, มาก\",ชาย,01/06/2560,ป.1,ไทย,\r\n"
            "2,,,,,,,,,\r\n"
            "\r\n"
            "4,1234545678781,เด็กหญิง,สมหญิง,ดีใจ,หญิง,2017-07-01,ป.2,,\"สอง\nบรรทัด\"\r\n")
    rows, stream = parse(text.encode("utf-8"))
    assert stream.reads > 50  # it really read the upload a little at a time
    assert rows == [
        (2, ["3100600445635", None, "เด็กชาย", "สมชาย", "ใจดี, มาก", "M", "2017-06-01", "p1", "ไทย"]),
        (5, ["1234545678781", None, "เด็กหญิง", "สมหญิง", "ดีใจ", "F", "2017-07-01", "p2", None]),
    ]


def test_english_headers_any_case_and_an_id_column():
    data = b"ID,First Name,LAST_NAME,Gender,Date-of-Birth,Class\nG644200000001,A,B,F,2019-01-01,k1\n"
    rows, _ = parse(data, step=5)
    assert rows == [(2, [None, "G644200000001", None, "A", "B", "F", "2019-01-01", "k1", None])]


def test_windows_thai_encoding():
    data = "เลขประจำตัวประชาชน,ชื่อ,นามสกุล,เพศ,วันเกิด,ชั้น\n3100600445635,วาสนา,มีบุญ,หญิง,5/6/2560,ป.2\n"
    rows, _ = parse(data.encode("cp874"), step=4096)
    assert rows[0][1][3:5] == ["วาสนา", "มีบุญ"]


@pytest.mark.parametrize("data", [
    b"", b"\n\n", b"name,age\nx,1\n", b"national_id,first_name\n1,2\n",
    b"national_id,national_id,first_name,last_name,sex,birth_date,grade\n",
])
def test_unreadable_headers(data):
    with pytest.raises(LecError) as err:
        parse(data)
    assert err.value.code == "invalid_file"


HEADER = "national_id,first_name,last_name,sex,birth_date,grade\r\n"


def read_all(data, limits=ff.LIMITS, step=1 << 16):
    """Every ``(number, values)`` the reader gives, BadRows included."""
    stream = Trickle(data, step)
    head, _ = ff.sniff(stream)
    return list(ff.records(ff.read_csv(head, stream, limits)))


def test_a_stray_byte_in_a_utf8_file_refuses_that_row_only():
    """The issue's file: UTF-8 with one stray 0xA1 was read whole as cp874 and
    "สมศรี" stored as "เธชเธกเธจเธฃเธต"."""
    rows = ["3100600445635,สมศรี,ใจดี,F,2017-01-01,p1", "1234545678781,สม\xa1ชาย,ดี,M,2017-01-01,p1",
            "1100000000001,ณัฐพล,ศรีสุข,M,2017-01-01,p1"]
    for first in (0, 1):  # the stray byte after good Thai lines, or on the first Thai line
        lines = rows[first:] + rows[:first]
        data = (HEADER + "\r\n".join(lines) + "\r\n").encode("utf-8").replace(b"\xc2\xa1", b"\xa1")
        read = dict(read_all(data, step=5))
        bad = [n for n, v in read.items() if isinstance(v, ff.BadRow)]
        assert len(bad) == 1 and len(read) == 3
        assert read[bad[0]].entry(bad[0]) == {
            "row": bad[0], "code": "validation_error",
            "message": "the row holds bytes that are not valid UTF-8 (0xa1); "
                       "save the file as CSV UTF-8 and import it again"}
        names = sorted(v[3] for v in read.values() if not isinstance(v, ff.BadRow))
        assert names == ["ณัฐพล", "สมศรี"]


def test_a_bom_decides_utf8_and_bad_bytes_never_switch_the_encoding():
    good = "3100600445635,ก,ข,M,2017-01-01,p1\n".encode() * 5000
    data = codecs.BOM_UTF8 + HEADER.encode() + good + b"3100600445635,\xca\xc1\xc8\xc3\xd5,x,M,2017-01-01,p1\n" + good
    read = read_all(data, step=4096)
    assert len(read) == 10_001
    assert [n for n, v in read if isinstance(v, ff.BadRow)] == [5002]
    assert all(v[3] == "ก" for _, v in read if not isinstance(v, ff.BadRow))


def test_windows_thai_only_when_the_text_is_not_utf8_and_a_utf8_row_in_it_is_refused():
    lines = ["เลขประจำตัวประชาชน,ชื่อ,นามสกุล,เพศ,วันเกิด,ชั้น", "3100600445635,วาสนา,มีบุญ,หญิง,5/6/2560,ป.2"]
    data = "\n".join(lines).encode("cp874") + "\n1234545678781,สมศรี,ใจดี,หญิง,5/6/2560,ป.2\n".encode("utf-8")
    read = read_all(data, step=3)
    assert read[0] == (2, ["3100600445635", None, None, "วาสนา", "มีบุญ", "F", "2017-06-05", "p2", None])
    assert isinstance(read[1][1], ff.BadRow) and "UTF-8 text in a Windows Thai (cp874) file" in read[1][1].message


def test_a_quoted_cell_over_lines_with_a_bad_byte_refuses_its_row_and_keeps_the_numbering():
    data = (HEADER + '3100600445635,"สม\nศรี",ข,F,2017-01-01,p1\r\n1234545678781,ก,ข,M,2017-01-01,p1\r\n').encode()
    data = data.replace("ศรี".encode(), b"\xff" + "ศรี".encode())
    read = read_all(data, step=2)
    assert isinstance(read[0][1], ff.BadRow) and read[0][0] == 2
    assert read[1] == (3, ["1234545678781", None, None, "ก", "ข", "M", "2017-01-01", "p1", None])


def test_a_header_that_cannot_be_decoded_makes_the_file_unreadable():
    with pytest.raises(LecError) as err:
        read_all("ชื่อ,นามสกุล".encode() + b"\xff\n1,2\n")
    assert err.value.code == "invalid_file" and "header row" in err.value.description


@pytest.mark.parametrize("data,what", [
    ((HEADER + "1,2,3,4,5,6,7\n" * 10).encode(), "more than 10 rows"),
    ((HEADER + ",".join(["x"] * 13) + "\n").encode(), "more than 12 columns"),
    ((HEADER + "3100600445635," + "ก" * 101 + ",x,M,2017-01-01,p1\n").encode(), "longer than 100 characters"),
    ((HEADER + "," * 500).encode(), "longer than 400 bytes"),  # one endless line
    ((HEADER + '"' + "x\n" * 300 + '"\n').encode(), "longer than 400 bytes"),  # one endless quoted cell
])
def test_csv_caps_refuse_the_file(data, what):
    limits = ff.Limits(rows=10, columns=12, cell_chars=100, row_bytes=400)
    with pytest.raises(LecError) as err:
        read_all(data, limits, step=64)
    assert err.value.code == "payload_too_large" and what in err.value.description


# -- XLSX built by hand (tests/xlsx_bombs.py) ---------------------------------------------------

ROW = ["3100600445635", "ก", "ข", "M", "2017-01-01", "p1"]


def read_book(tmp_path, data, limits=ff.LIMITS):
    path = tmp_path / "upload.xlsx"
    path.write_bytes(data)
    return list(ff.records(ff.read_xlsx(str(path), limits)))


def refusal(tmp_path, data, limits=ff.LIMITS):
    with pytest.raises(LecError) as err:
        read_book(tmp_path, data, limits)
    return err.value


def test_a_hand_built_workbook_reads_with_shared_and_inline_strings(tmp_path):
    data = bombs.workbook(bombs.sheet([bombs.HEADER, [0, 1, 2, 3, 4, 5], ROW]), bombs.shared(ROW))
    expected = ["3100600445635", None, None, "ก", "ข", "M", "2017-01-01", "p1", None]
    assert read_book(tmp_path, data) == [(2, expected), (3, expected)]


def test_one_huge_shared_string_is_refused_at_once_in_flat_memory(tmp_path):
    """The issue's bomb: 151 KiB unpacking to a 150 MiB shared string grew the
    gateway by 257 MB and ended in a misleading 503."""
    data = bombs.huge_shared_string(150)
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        err = refusal(tmp_path, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.code == "payload_too_large" and "longer than 32,767 characters" in err.description
    assert peak < 16 << 20


def test_millions_of_shared_strings_are_refused_by_count(tmp_path):
    """The issue's other bomb: 3 million shared strings in 122 KiB took 32 s."""
    data = bombs.many_shared_strings(3_000_000)
    assert len(data) < 200_000
    err = refusal(tmp_path, data)
    assert err.code == "payload_too_large" and "more than 500,000 shared strings" in err.description
    small = ff.Limits(shared_strings=10, shared_chars=50)
    assert "shared strings" in refusal(tmp_path, bombs.workbook(
        bombs.sheet([bombs.HEADER]), bombs.shared(["x"] * 11)), small).description
    assert "hold more than 50 characters" in refusal(tmp_path, bombs.workbook(
        bombs.sheet([bombs.HEADER]), bombs.shared(["x" * 30, "y" * 30])), small).description


@pytest.mark.parametrize("sheet,what", [
    (bombs.sheet([bombs.HEADER, ROW]).replace('<row r="2">', '<row r="1048577">'), "more than 1,048,576 rows"),
    (bombs.sheet([bombs.HEADER, ROW]).replace('r="F2"', 'r="XFD2"'), "more than 256 columns"),
    (bombs.sheet([bombs.HEADER, ROW]).replace('r="F2"', 'r="F99999999999999999999999"'), "rows"),
    (bombs.sheet([bombs.HEADER, ["x" * 40_000] + ROW[1:]]), "longer than 32,767 characters"),
    (bombs.sheet([bombs.HEADER, ROW]).replace("<sheetData>", "<!--" + "x" * (2 << 20) + "-->"
                                              "<sheetData>"), "longer than 1,048,576 bytes"),
])
def test_sheet_caps(tmp_path, sheet, what):
    err = refusal(tmp_path, bombs.workbook(sheet))
    assert err.code == "payload_too_large" and what in err.description


def test_a_declared_dimension_does_not_pad_the_rows(tmp_path):
    data = bombs.workbook(bombs.sheet([bombs.HEADER, ROW], dimension="A1:XFD1048576"))
    assert read_book(tmp_path, data)[0][0] == 2


def test_parse_time_is_capped(tmp_path):
    data = bombs.workbook(bombs.sheet([bombs.HEADER] + [ROW] * 2000))
    err = refusal(tmp_path, data, ff.Limits(seconds=0))
    assert err.code == "payload_too_large" and "longer than 0 seconds" in err.description


@pytest.mark.parametrize("part", [
    # a DTD without entities, internal entities (billion laughs), an external entity
    '<?xml version="1.0"?><!DOCTYPE sst><sst xmlns="%s"/>' % bombs.MAIN,
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    '<sst xmlns="%s"><si><t>&b;</t></si></sst>' % bombs.MAIN,
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<sst xmlns="%s"><si><t>&x;</t></si></sst>' % bombs.MAIN,
])
def test_dtds_and_entities_are_refused(tmp_path, part):
    err = refusal(tmp_path, bombs.workbook(bombs.sheet([bombs.HEADER, [0] * 6]), part))
    assert err.code == "invalid_file" and "DTD" in err.description


@pytest.mark.parametrize("data", [
    bombs.workbook(bombs.sheet([bombs.HEADER, ROW]).replace("</sheetData>", "")),  # broken XML
    bombs.workbook(bombs.sheet([bombs.HEADER, [7] * 6]), bombs.shared(["x"])),  # no such shared string
    bombs.workbook(bombs.sheet([bombs.HEADER, ROW]).replace('r="B2"', 'r="B-2"')),
    bombs.workbook(bombs.sheet([bombs.HEADER, ROW]).replace('<row r="2">', '<row r="two">')),
    bombs.workbook(bombs.sheet([bombs.HEADER, ROW]))[:-200],  # cut short
    bombs.workbook("not xml at all"),
])
def test_damaged_workbooks_are_invalid_files(tmp_path, data):
    assert refusal(tmp_path, data).code == "invalid_file"


def test_a_binary_part_such_as_an_image_is_left_alone(tmp_path):
    data = bombs.workbook(bombs.sheet([bombs.HEADER, ROW]), extra=[("xl/media/image1.png", b"\x89PNG\r\n\x1a\n")])
    assert len(read_book(tmp_path, data)) == 1


def test_parts_that_unpack_beyond_the_cap_are_refused_before_parsing(tmp_path):
    data = bombs.workbook(bombs.sheet([bombs.HEADER, ROW]), extra=[("xl/media/big.bin", b"\0" * 100_000)])
    err = refusal(tmp_path, data, ff.Limits(xml_bytes=50_000))
    assert err.code == "payload_too_large" and "unpacks to more than 50,000 bytes" in err.description


def test_xlsx_rows_keep_their_numbers(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "ชั้น"])
    sheet.append([3100600445635, "ก", "ข", "ชาย", dt.date(2019, 1, 1), "อ.1"])
    sheet.append([None] * 6)
    sheet.cell(row=5, column=1, value="1234545678781")
    for col, value in enumerate(["ค", "ง", "หญิง", "1/1/2562", "อ.2"], start=2):
        sheet.cell(row=5, column=col, value=value)
    path = tmp_path / "x.xlsx"
    book.save(path)
    assert list(ff.records(ff.read_xlsx(str(path)))) == [
        (2, ["3100600445635", None, None, "ก", "ข", "M", "2019-01-01", "k1", None]),
        (5, ["1234545678781", None, None, "ค", "ง", "F", "2019-01-01", "k2", None]),
    ]


def test_export_writers_round_trip():
    learner = {"id": 9, "national_id": "3100600445635", "g_code": None, "prefix": "เด็กชาย",
               "first_name": "สมชาย", "last_name": "ใจดี", "sex": "M", "birth_date": "2019-01-01",
               "grade": "k1", "nationality": "ไทย"}
    data = b"".join(ff.csv_chunks(iter([[learner], [dict(learner, id=10, national_id="1234545678781")]])))
    assert data.startswith(codecs.BOM_UTF8)
    rows, _ = parse(data, step=64)
    assert [r[1][0] for r in rows] == ["3100600445635", "1234545678781"]
    thai = b"".join(ff.csv_chunks(iter([[learner]]), thai=True))
    assert thai.decode("utf-8-sig").startswith("learner_id,เลขประจำตัวประชาชน,รหัส G,คำนำหน้า,ชื่อ")
    assert parse(thai)[0] == rows[:1]
    out = io.BytesIO()
    ff.write_xlsx(iter([[learner]]), out)
    out.seek(0)
    from openpyxl import load_workbook
    values = list(load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert values[1][:3] == (9, "3100600445635", None)
    assert values[1][ff.EXPORT_COLUMNS.index("birth_date")].date() == dt.date(2019, 1, 1)
