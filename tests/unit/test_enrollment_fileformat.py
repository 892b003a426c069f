"""The learner file format: headers, spreadsheet value forms, incremental CSV, XLSX."""
import codecs
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from services.common.errors import LecError
from services.enrollment import fileformat as ff


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


def test_bad_bytes_after_the_start_stop_the_read_with_invalid_file():
    good = "national_id,first_name,last_name,sex,birth_date,grade\n".encode() + \
        "3100600445635,ก,ข,M,2017-01-01,p1\n".encode() * 5000
    data = codecs.BOM_UTF8 + good + b"\xff\xfe,broken\n"
    stream = io.BytesIO(data)
    head, _ = ff.sniff(stream)
    read = []
    with pytest.raises(LecError) as err:
        for row in ff.records(ff.read_csv(head, stream)):
            read.append(row)
    assert err.value.code == "invalid_file" and len(read) > 1000


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
