"""Bulk import (CSV and XLSX, English or Thai headers) and export, through the gateway."""
import codecs
import csv
import datetime as dt
import io
import random
import time

import pytest
from openpyxl import Workbook, load_workbook

from tests import xlsx_bombs
from tests.client import Tree
from tests.system.enrollment_helpers import (
    enrollment_rows, error, eventually, learner, learners_url, national_id, new_round,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
THAI_HEADER = ["ลำดับ", "เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเดือนปีเกิด",
               "ชั้น", "สัญชาติ"]


@pytest.fixture(scope="module")
def world(admin):
    return Tree.build(admin), new_round(admin)


def thai_csv(rows, bom=True, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(THAI_HEADER)
    for i, row in enumerate(rows, start=1):
        writer.writerow([i, *row])
    data = buffer.getvalue().encode(encoding)
    return (codecs.BOM_UTF8 + data) if bom else data


def upload(client, url, data, content_type="text/csv; charset=utf-8", status=200):
    resp = client.post(url + "/import", data=data, headers={"Content-Type": content_type})
    assert resp.status_code == status, resp.text
    return resp.json()


def test_csv_with_bom_and_thai_headers_lands_valid_rows_and_reports_the_rest(world):
    t, r = world
    held_elsewhere = learner()
    t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201, json=held_elsewhere)
    good = [national_id() for _ in range(4)]
    rows = [
        [good[0], "เด็กชาย", "ธนกฤต", "ศรีสุข", "ชาย", "12/05/2561", "ป.1", "ไทย"],          # row 2
        [good[1], "เด็กหญิง", "ปณิตา", "ณ ลำปาง", "หญิง", "2018-01-31", "p1", "ไทย"],       # row 3
        ["1234545678782", "เด็กชาย", "ผิด", "เลข", "ชาย", "01/01/2561", "ป.1", "ไทย"],       # row 4
        [good[2], "เด็กหญิง", "ซ้ำ", "ในไฟล์", "หญิง", "01/01/2561", "ป.2", "ไทย"],          # row 5
        [good[2], "เด็กหญิง", "ซ้ำ", "ในไฟล์", "หญิง", "01/01/2561", "ป.2", "ไทย"],          # row 6
        [held_elsewhere["national_id"], "", "มี", "ที่อื่น", "หญิง", "01/01/2561", "ป.2", ""],  # row 7
        ["", "", "", "", "", "", "", ""],                                                   # row 8
        [good[3], "เด็กชาย", "ชั้น", "ผิด", "ชาย", "01/01/2561", "ศพด.", "ไทย"],             # row 9
        ["G644200009999", "", "จี", "โค้ด", "ชาย", "31/02/2561", "ม.1", "ลาว"],             # row 10
    ]
    url = learners_url(r, t, "school_a")
    result = upload(t["school_a"], url, thai_csv(rows))
    assert result["accepted"] == 3 and result["unchanged"] == 0 and result["rows"] == 8
    assert result["rejected_total"] == 5
    by_row = {x["row"]: x for x in result["rejected"]}
    assert sorted(by_row) == [4, 6, 7, 9, 10]
    assert by_row[4]["code"] == "invalid_national_id"
    assert by_row[6]["code"] == "duplicate_learner" and "row 5" in by_row[6]["message"]
    assert by_row[7] == {"row": 7, "code": "duplicate_learner", "message": by_row[7]["message"],
                         "held_in": {"code": t.units["province"]["code"], "name": t.units["province"]["name"]}}
    assert held_elsewhere["national_id"] not in str(result)
    assert by_row[9]["code"] == "validation_error" and by_row[9]["message"].startswith("grade")
    assert by_row[10]["code"] == "validation_error" and "birth_date" in by_row[10]["message"]
    listed = {i["national_id"]: i for i in t["school_a"].ok("GET", url, params={"limit": 1000})["items"]}
    first = listed[good[0]]
    assert (first["first_name"], first["last_name"], first["sex"], first["birth_date"], first["grade"]) == \
        ("ธนกฤต", "ศรีสุข", "M", "2018-05-12", "p1")
    assert listed[good[1]]["last_name"] == "ณ ลำปาง" and listed[good[1]]["source"] == "import"
    # the same file again adds nothing
    again = upload(t["school_a"], url, thai_csv(rows))
    assert again["accepted"] == 0 and again["unchanged"] == 3
    assert t["school_a"].ok("GET", url)["total"] == 3
    audit = enrollment_rows("SELECT details FROM audit_log WHERE action = 'import' AND "
                            "(details->>'institution_id')::bigint = :i", i=t.id("school_a"))
    assert len(audit) == 1 and audit[0]["details"]["accepted"] == 3


def test_english_headers_without_bom_an_id_column_of_either_kind_and_quoted_cells(world):
    t, r = world
    nid = national_id()
    text = ("id,first_name,last_name,sex,birth_date,grade,remarks\n"
            f"{nid},\"มานะ, จริง\",ใจดี,M,2017-03-03,p2,\"two\nlines\"\n"
            "g644200001357,Aung,Min,male,2017-04-04,P2,\n"
            f"{national_id()},\"ใจ\nดี\",มีสุข,F,2017-04-04,p2,\n")
    result = upload(t["school_a"], learners_url(r, t, "school_a"), text.encode())
    assert result["accepted"] == 2, result
    # rows are counted as records (the header is row 1); a line break is no part of a name
    assert [(x["row"], x["code"]) for x in result["rejected"]] == [(4, "validation_error")]
    found = t["school_a"].ok("GET", learners_url(r, t, "school_a"), params={"q": "มานะ"})["items"][0]
    assert found["first_name"] == "มานะ, จริง" and found["last_name"] == "ใจดี"
    gfound = t["school_a"].ok("GET", learners_url(r, t, "school_a"), params={"q": "G6442000013"})
    assert gfound["items"][0]["g_code"] == "G644200001357"


def test_windows_thai_encoded_csv_is_read(world):
    t, r = world
    nid = national_id()
    data = thai_csv([[nid, "เด็กหญิง", "วาสนา", "มีบุญ", "หญิง", "5/6/2560", "ป.2", "ไทย"]], bom=False,
                    encoding="cp874")
    assert upload(t["school_a"], learners_url(r, t, "school_a"), data)["accepted"] == 1
    found = t["school_a"].ok("GET", learners_url(r, t, "school_a"), params={"q": nid})["items"][0]
    assert found["first_name"] == "วาสนา" and found["birth_date"] == "2017-06-05"


def test_xlsx_with_numbers_and_date_cells(world):
    t, r = world
    book = Workbook()
    sheet = book.active
    sheet.append(["เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "ชั้น"])
    nids = [national_id() for _ in range(3)]
    sheet.append([int(nids[0]), "อนันต์", "ทองดี", "ชาย", dt.date(2020, 2, 2), "อ.2"])
    sheet.append([nids[1], "อรุณี", "ทองดี", "หญิง", dt.datetime(2019, 3, 3), "อนุบาล 3"])
    sheet.append([])
    sheet.append([nids[2], "ผิด", "ชั้น", "หญิง", dt.date(2019, 3, 3), "m9"])
    data = io.BytesIO()
    book.save(data)
    url = learners_url(r, t, "school_a")
    result = upload(t["school_a"], url, data.getvalue(), content_type=XLSX)
    assert result["accepted"] == 2
    assert [(x["row"], x["code"]) for x in result["rejected"]] == [(5, "validation_error")]
    found = t["school_a"].ok("GET", url, params={"q": nids[0]})["items"][0]
    assert found["grade"] == "k2" and found["birth_date"] == "2020-02-02"


def test_a_multipart_form_upload(world):
    t, r = world
    data = thai_csv([[national_id(), "เด็กชาย", "ฟอร์ม", "อัปโหลด", "ชาย", "1/1/2561", "ป.1", "ไทย"]])
    resp = t["school_a"].post(learners_url(r, t, "school_a") + "/import",
                              files={"file": ("learners.csv", data, "text/csv")})
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 1


@pytest.mark.parametrize("data,content_type,status,code", [
    (b"name,age\nx,1\n", "text/csv", 422, "invalid_file"),
    (b"", "text/csv", 422, "invalid_file"),
    (b"\n\n", "text/csv", 422, "invalid_file"),
    (b'{"national_id": "1"}', "application/json", 415, "unsupported_media_type"),
    (b"PK\x03\x04not really a workbook", XLSX, 422, "invalid_file"),
    (b"national_id,national_id,first_name,last_name,sex,birth_date,grade\n", "text/csv", 422,
     "invalid_file"),
])
def test_files_that_cannot_be_read(world, data, content_type, status, code):
    t, r = world
    resp = t["school_a"].post(learners_url(r, t, "school_a") + "/import", data=data,
                              headers={"Content-Type": content_type})
    error(resp, status, code)


def test_a_stray_byte_in_a_utf8_csv_refuses_its_row_and_never_corrupts_the_others(world):
    """A UTF-8 file with one stray 0xA1 was read whole as cp874: "สมศรี" was
    stored as "เธชเธกเธจเธฃเธต" and the row reported accepted."""
    t, r = world
    nids = [national_id() for _ in range(3)]
    rows = [[nids[0], "เด็กหญิง", "สมศรี", "ใจดี", "หญิง", "5/6/2560", "ป.2", "ไทย"],
            [nids[1], "เด็กชาย", "STRAY", "มีสุข", "ชาย", "5/6/2560", "ป.2", "ไทย"],
            [nids[2], "เด็กชาย", "ณัฐพล", "ศรีสุข", "ชาย", "5/6/2560", "ป.2", "ไทย"]]
    for bom in (False, True):
        data = thai_csv(rows, bom=bom).replace(b"STRAY", "สม".encode() + b"\xa1" + "ชาย".encode())
        url = learners_url(r, t, "school_a")
        result = upload(t["school_a"], url, data)
        assert (result["accepted"] + result["unchanged"], result["rows"], result["rejected_total"]) == (2, 3, 1)
        assert result["rejected"] == [{"row": 3, "code": "validation_error", "message": (
            "the row holds bytes that are not valid UTF-8 (0xa1); save the file as CSV UTF-8 and import it again")}]
        names = {x["national_id"]: x["first_name"] for x in t["school_a"].ok("GET", url, params={"limit": 1000})["items"]}
        assert names[nids[0]] == "สมศรี" and names[nids[2]] == "ณัฐพล" and nids[1] not in names


def gateway_peak_kib(system):
    """pid -> peak resident memory (VmHWM, KiB) of each gateway worker."""
    from bench.common import processes
    peaks = {}
    for name, pid in processes(system).items():
        if name.startswith("gateway worker"):
            with open(f"/proc/{pid}/status") as fh:
                peaks[pid] = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    return peaks


def test_xlsx_bombs_are_refused_at_once_without_growing_the_gateway(world, system):
    """151 KiB unpacking to one 150 MiB shared string grew the gateway by 257 MB
    and answered a misleading 503; 3 million shared strings in 122 KiB took 32 s."""
    t, r = world
    url = learners_url(r, t, "school_a")
    total = t["school_a"].ok("GET", url)["total"]
    before = gateway_peak_kib(system)
    for data, what in ((xlsx_bombs.huge_shared_string(150), "longer than 32,767 characters"),
                       (xlsx_bombs.many_shared_strings(3_000_000), "more than 500,000 shared strings")):
        assert len(data) < 160 * 1024
        started = time.monotonic()
        body = upload(t["school_a"], url, data, content_type=XLSX, status=413)
        assert time.monotonic() - started < 20
        assert body["code"] == "payload_too_large" and what in body["description"]
    after = gateway_peak_kib(system)
    assert max(after[pid] - before.get(pid, 0) for pid in after) < 64 * 1024
    assert t["school_a"].ok("GET", url)["total"] == total


@pytest.mark.parametrize("part", [
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    '<sst xmlns="%s"><si><t>&b;</t></si></sst>' % xlsx_bombs.MAIN,
    '<?xml version="1.0"?><!DOCTYPE sst SYSTEM "http://x.example/d.dtd"><sst xmlns="%s"/>' % xlsx_bombs.MAIN,
])
def test_an_xlsx_with_a_dtd_is_an_invalid_file(world, part):
    t, r = world
    data = xlsx_bombs.workbook(xlsx_bombs.sheet([xlsx_bombs.HEADER, [0] * 6]), part)
    body = upload(t["school_a"], learners_url(r, t, "school_a"), data, content_type=XLSX, status=422)
    assert body["code"] == "invalid_file" and "DTD" in body["description"]


def test_only_the_institution_imports(world):
    t, r = world
    data = thai_csv([])
    for key, status in (("lao_a", 403), ("province", 403), ("school_b", 404)):
        resp = t[key].post(learners_url(r, t, "school_a") + "/import", data=data,
                           headers={"Content-Type": "text/csv"})
        assert resp.status_code == status, (key, resp.text)


def _stream(rows, chunk=64 * 1024):
    """A CSV body sent chunked (no Content-Length), as a large upload would be."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["national_id", "first_name", "last_name", "sex", "birth_date", "grade"])
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > chunk:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def test_a_large_streamed_file_lands_in_batches_and_again_adds_nothing(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    rng = random.Random(11)
    rows = [[national_id(rng), rng.choice(["สมชาย", "สมหญิง", "มานี"]), rng.choice(["ใจดี", "มีสุข"]),
             rng.choice("MF"), f"20{rng.randint(10, 19)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
             rng.choice(["p1", "p2", "p3", "m1"])] for _ in range(12_000)]
    # the same children again at the end of the file, two batches after their first
    # rows (file rows 5 and 4002; two batches are in flight at a time, so the first
    # batch has landed): once as they were, once with another name
    rows.append(list(rows[3]))
    rows.append([rows[4000][0], "ซ้ำ", *rows[4000][2:]])
    url = learners_url(r, t, "school_a")
    resp = t["school_a"].post(url + "/import", data=_stream(rows), headers={"Content-Type": "text/csv"},
                              timeout=300)
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert (result["accepted"], result["unchanged"], result["rows"], result["rejected_total"]) == \
        (12_000, 0, 12_002, 2)
    assert [(x["row"], x["code"], x["held_by"], x["message"]) for x in result["rejected"]] == [
        (12_002, "duplicate_learner", t.id("school_a"), "the same learner is on row 5 of this file"),
        (12_003, "duplicate_learner", t.id("school_a"), "the same learner is on row 4002 of this file")]
    batches = enrollment_rows("SELECT details->>'accepted' AS n FROM audit_log WHERE action = 'import' "
                              "AND (details->>'institution_id')::bigint = :i", i=t.id("school_a"))
    assert sorted(int(b["n"]) for b in batches) == [2000, 5000, 5000]
    assert t["lao_a"].ok("GET", url)["total"] == 12_000
    assert t["school_a"].ok("GET", url, params={"q": rows[4000][0]})["items"][0]["first_name"] == rows[4000][1]
    again = t["school_a"].post(url + "/import", data=_stream(rows[:12_000]),
                               headers={"Content-Type": "text/csv"}, timeout=300).json()
    assert (again["accepted"], again["unchanged"], again["rejected_total"]) == (0, 12_000, 0)
    # announced in batches of a thousand, each learner once, none one by one
    events = enrollment_rows("SELECT payload FROM outbox WHERE event_type = 'learners_added' AND "
                             "(payload->'institution'->>'id')::bigint = :i", i=t.id("school_a"))
    assert [len(e["payload"]["learners"]) for e in events] == [1000] * 12
    announced = [learner["id"] for e in events for learner in e["payload"]["learners"]]
    stored = enrollment_rows("SELECT id FROM learners WHERE round_id = :r AND institution_id = :i",
                             r=r["id"], i=t.id("school_a"))
    assert sorted(announced) == sorted(x["id"] for x in stored) and len(set(announced)) == 12_000
    singles = enrollment_rows("SELECT count(*) AS n FROM outbox WHERE event_type = 'learner_added' AND "
                              "(payload->'learner'->'institution'->>'id')::bigint = :i", i=t.id("school_a"))
    assert singles == [{"n": 0}]


def test_export_csv_and_xlsx_and_import_the_export_back(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    url = learners_url(r, t, "school_a")
    made = [t["school_a"].ok("POST", url, 201, json=learner(grade=g, first_name=f"ชื่อ{g}"))
            for g in ("k1", "p6", "m3")]
    made.append(t["school_a"].ok("POST", url, 201, json=learner(national_id=None, g_code="G655000000042")))
    gone = t["school_a"].ok("POST", url, 201, json=learner())
    t["school_a"].ok("DELETE", f"/learners/{gone['id']}", 204, params={"reason": "not_found"})

    resp = t["lao_a"].get(url + "/export")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.content.startswith(codecs.BOM_UTF8)
    csv_bytes = resp.content
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert sorted(int(x["learner_id"]) for x in rows) == sorted(m["id"] for m in made)
    exported = {int(x["learner_id"]): x for x in rows}
    for m in made:
        for field in ("national_id", "g_code", "first_name", "last_name", "grade", "birth_date", "sex"):
            assert (exported[m["id"]][field] or None) == m[field], field

    resp = t["school_a"].get(url + "/export", headers={"Accept": XLSX})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(resp.content), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("learner_id", "national_id", "g_code")
    assert len(values) == 1 + len(made)

    # an export is a valid import: everything is already there
    again = upload(t["school_a"], url, csv_bytes)
    assert (again["accepted"], again["unchanged"], again["rejected_total"]) == (0, len(made), 0)
    again = upload(t["school_a"], url, resp.content, content_type=XLSX)
    assert (again["accepted"], again["unchanged"]) == (0, len(made))
    error(t["school_b"].get(url + "/export"), 404, "not_found")
    error(t["school_a"].get(url + "/export", params={"format": "pdf"}), 422, "validation_error")



def test_an_upload_larger_than_the_json_body_limit_is_accepted(world):
    """The import takes files up to LEC_MAX_UPLOAD, far above the 1 MiB of JSON bodies."""
    t, r = world
    filler = "".join(f",,,,,,,note {i:07d} " + "x" * 60 + "\n" for i in range(20_000))
    data = ("national_id,first_name,last_name,sex,birth_date,grade,nationality,remarks\n"
            f"{national_id()},ใหญ่,มาก,M,2016-01-01,p4,ไทย,\n" + filler).encode()
    assert len(data) > 1.5 * 1024 * 1024
    result = upload(t["school_a"], learners_url(r, t, "school_a"), data)
    assert (result["accepted"], result["rows"]) == (1, 1)


def test_a_seal_in_the_middle_of_an_import_stops_it_cleanly(admin, lec_env):
    """The rows stored before the seal are exactly the sealed count; the rest are
    refused with unit_confirmed, and the answer says how far the import got."""
    from tests.system.enrollment_helpers import rpc
    t = Tree.build(admin)
    r = new_round(admin)
    rng = random.Random(5)
    rows = [[national_id(rng), "ทดสอบ", "ผนึก", "F", "2017-05-05", "p3"] for _ in range(12_000)]
    sealed = {}

    def stored_so_far():
        return enrollment_rows("SELECT count(*) AS n FROM learners WHERE round_id = :r",
                               r=r["id"])[0]["n"]

    def body():
        for i, chunk in enumerate(_stream(rows, chunk=16 * 1024)):
            if i == 25 and not sealed:  # once a first batch is stored, confirm
                assert eventually(stored_so_far, timeout=30)
                with rpc(lec_env) as proxy:
                    sealed.update(proxy.enrollment.seal(r["id"], t.id("school_a")))
            yield chunk

    url = learners_url(r, t, "school_a")
    resp = t["school_a"].post(url + "/import", data=body(), headers={"Content-Type": "text/csv"},
                              timeout=300)
    answer = error(resp, 409, "unit_confirmed")
    assert sealed, "the seal was taken during the upload"
    stored = t["lao_a"].ok("GET", url)["total"]
    assert sealed["counts"]["total"] == stored == answer["accepted"] >= 5000
    assert answer["accepted"] < len(rows) and "were imported" in answer["description"]
