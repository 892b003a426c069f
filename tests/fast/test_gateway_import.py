"""The import workflow at the gateway: an upload (CSV, XLSX or a form) is read,
checked against its header, and sent to enrollment in batches by the shared
sender threads; the answer adds the batches' results up. The staff import
shares it, one batch in flight at a time. Templates and the export."""
import codecs
import csv
import datetime as dt
import io
import threading
import time

import pytest
from openpyxl import Workbook, load_workbook

from gateway import fileformat
from gateway import staff_file
from services.common.errors import LecError
from services.enrollment.schemas import ImportResult
from tests.fast.conftest import error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = "/rounds/1/institutions/4/learners/import"
STAFF_URL = "/rounds/1/institutions/4/staff/import"
ENGLISH = "national_id,first_name,last_name,sex,birth_date,grade\n"


def csv_file(rows, header=ENGLISH):
    return (header + "".join(",".join(row) + "\n" for row in rows)).encode("utf-8")


def learner_rows(n):
    return [[f"11{i:011d}", f"First{i}", f"Last{i}", "M", "2018-01-31", "p1"] for i in range(n)]


class Enrollment:
    """enrollment's import RPCs: each batch is stored whole; ``reject`` names rows it refuses."""

    def __init__(self, rpc, reject=(), fail_on=None, delay=0.0, check=None):
        self.reject = set(reject)
        self.fail_on = fail_on or {}
        self.delay = delay
        self.batches = []
        self.texts = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        for prefix in ("", "staff_"):
            rpc.answer("enrollment", f"{prefix}import_check", check)
        rpc.answer("enrollment", "import_rows", self.rows)
        rpc.answer("enrollment", "import_staff_rows", self.rows)

    def rows(self, round_id, iid, columns, batch, import_id=None, data=None):
        if data is not None:
            # the rows sent as COPY text, read back (an empty cell is no value) among the others
            self.texts.append(data)
            copied = [[int(r[0]), *(v if v != "" else None for v in r[1:])]
                      for r in csv.reader(io.StringIO(data))]
            batch = sorted(copied + list(batch), key=lambda r: r[0])
        with self._lock:
            self.batches.append((round_id, iid, columns, batch, import_id))
            number = len(self.batches)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            if number in self.fail_on:
                raise self.fail_on[number]
            rejected = [{"row": row[0], "code": "invalid_national_id", "message": "checksum"}
                        for row in batch if row[0] in self.reject]
            return {"accepted": len(batch) - len(rejected), "unchanged": 0, "rejected": rejected,
                    "rows": len(batch)}
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def enrollment(rpc):
    return Enrollment(rpc)


def upload(gw, data, content_type="text/csv; charset=utf-8", who="school", url=URL):
    return gw.post(url, who, body=data, headers={"Content-Type": content_type})


def test_a_csv_goes_to_enrollment_in_the_import_columns_as_the_institution(gw, rpc, enrollment):
    r = upload(gw, csv_file(learner_rows(3)))
    assert r.status_code == 200, r.text
    assert r.json == {"accepted": 3, "unchanged": 0, "rejected": [], "rejected_total": 0, "rows": 3}
    (check,) = rpc.calls_to("enrollment", "import_check")
    assert check.args == (1, 4) and check.actor.user_id == 104
    (call,) = rpc.calls_to("enrollment", "import_rows")
    round_id, iid, columns, values, import_id = call.args + (call.kwargs["import_id"],)
    assert (round_id, iid, columns) == (1, 4, list(fileformat.COLUMNS))
    # plain rows travel as COPY text, read back here by the fake
    assert values == [] and call.kwargs["data"].splitlines()[0] == "2,1100000000000,,,First0,Last0,M,2018-01-31,p1,"
    batch = enrollment.batches[0][3]
    assert batch[0] == [2, "1100000000000", None, None, "First0", "Last0", "M", "2018-01-31", "p1", None]
    assert [row[0] for row in batch] == [2, 3, 4]
    assert call.actor.user_id == 104 and call.actor.role == "institution"
    assert len(import_id) == 36
    assert rpc.calls.index(check) < rpc.calls.index(call)


def test_rows_copy_text_cannot_carry_go_as_values_in_the_same_batch(gw, rpc, enrollment):
    rows = learner_rows(4)
    rows[1][1] = '"First\tTab"'
    rows[2][1] = '"Line\nBreak, ""quoted"""'
    assert upload(gw, csv_file(rows)).json["rows"] == 4
    (call,) = rpc.calls_to("enrollment", "import_rows")
    assert [row[0] for row in call.args[3]] == [3, 4]
    assert call.args[3][1][4] == 'Line\nBreak, "quoted"'
    assert [line.split(",")[0] for line in call.kwargs["data"].splitlines()] == ["2", "5"]
    assert [row[0] for row in enrollment.batches[0][3]] == [2, 3, 4, 5]


def test_a_thai_file_with_a_bom_is_read_into_the_apis_forms(gw, enrollment):
    header = "ลำดับ,เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,เพศ,วันเดือนปีเกิด,ชั้น,สัญชาติ\n"
    rows = [["1", "1100000000001", "เด็กชาย", "ธนกฤต", "ศรีสุข", "ชาย", "12/05/2561", "ป.1", "ไทย"],
            ["2", "", "", "จี", "โค้ด", "หญิง", "2018-01-31", "ศพด.", ""]]
    data = codecs.BOM_UTF8 + csv_file(rows, header)
    assert upload(gw, data).json["rows"] == 2
    batch = enrollment.batches[0][3]
    assert batch[0] == [2, "1100000000001", None, "เด็กชาย", "ธนกฤต", "ศรีสุข", "M", "2018-05-12", "p1", "ไทย"]
    assert batch[1][6:9] == ["F", "2018-01-31", "cdc"]


def test_rows_go_in_batches_of_the_set_size_under_one_import_id(make_gateway, rpc, enrollment, env):
    env(LEC_IMPORT_BATCH=2)
    gw = make_gateway()
    r = upload(gw, csv_file(learner_rows(5)))
    assert r.json["accepted"] == 5 and r.json["rows"] == 5
    batches = sorted(enrollment.batches, key=lambda b: b[3][0][0])
    assert [[row[0] for row in b[3]] for b in batches] == [[2, 3], [4, 5], [6]]
    assert len({b[4] for b in batches}) == 1
    # sent by the shared sender threads, not by the request's own
    assert {c.thread.split("_")[0] for c in rpc.calls_to("enrollment", "import_rows")} == {"import-sender"}
    assert rpc.calls_to("enrollment", "import_check")[0].thread == threading.current_thread().name


def test_the_batches_carry_the_requests_actor_and_id_from_the_sender_threads(make_gateway, rpc, enrollment, env):
    env(LEC_IMPORT_BATCH=1)
    gw = make_gateway()
    upload_headers = {"Content-Type": "text/csv", "X-Request-ID": "import-42"}
    assert gw.post(URL, "school", body=csv_file(learner_rows(3)), headers=upload_headers).status_code == 200
    calls = rpc.calls_to("enrollment", "import_rows")
    assert len(calls) == 3
    assert {c.request_id for c in calls} == {"import-42"}
    assert {c.actor.user_id for c in calls} == {104}


def test_batches_wait_longer_than_ordinary_calls(make_gateway, rpc, enrollment, env):
    env(LEC_IMPORT_RPC_TIMEOUT=45)
    gw = make_gateway()
    upload(gw, csv_file(learner_rows(1)))
    assert rpc.calls_to("enrollment", "import_rows")[0].timeout == 45
    assert rpc.calls_to("enrollment", "import_check")[0].timeout is None


def test_at_most_two_learner_batches_are_in_flight(make_gateway, rpc, env):
    env(LEC_IMPORT_BATCH=1)
    service = Enrollment(rpc, delay=0.01)
    gw = make_gateway()
    assert upload(gw, csv_file(learner_rows(8))).json["accepted"] == 8
    assert 1 <= service.most_in_flight <= 2


def test_the_services_rejections_and_the_readers_come_back_in_row_order(gw, rpc):
    Enrollment(rpc, reject={3})
    rows = csv_file(learner_rows(3)).replace(b"First2", "สม".encode() + b"\xa1" + "ชาย".encode())
    r = upload(gw, rows)
    assert r.status_code == 200, r.text
    body = r.json
    assert ImportResult().validate(body) == {} and set(body) == set(ImportResult().fields)
    assert (body["accepted"], body["rows"], body["rejected_total"]) == (1, 3, 2)
    assert [(x["row"], x["code"]) for x in body["rejected"]] == [(3, "invalid_national_id"), (4, "validation_error")]
    assert "not valid UTF-8" in body["rejected"][1]["message"]


def test_the_rejections_reported_are_bounded_but_all_are_counted(make_gateway, rpc, env):
    env(LEC_IMPORT_MAX_REPORTED=2)
    Enrollment(rpc, reject=set(range(2, 9)))
    gw = make_gateway()
    body = upload(gw, csv_file(learner_rows(7))).json
    assert body["rejected_total"] == 7 and [x["row"] for x in body["rejected"]] == [2, 3]


@pytest.mark.parametrize("data,content_type,status,code", [
    (b"name,age\nx,1\n", "text/csv", 422, "invalid_file"),
    (b"", "text/csv", 422, "invalid_file"),
    (b"\n\n", "text/csv", 422, "invalid_file"),
    (b"national_id,national_id,first_name,last_name,sex,birth_date,grade\n", "text/csv", 422, "invalid_file"),
    (b"first_name,last_name,sex,birth_date,grade\nA,B,M,2018-01-01,p1\n", "text/csv", 422, "invalid_file"),
    (b"PK\x03\x04not really a workbook", XLSX, 422, "invalid_file"),
    (b'{"national_id": "1"}', "application/json", 415, "unsupported_media_type"),
    (b"<xml/>", "application/xml", 415, "unsupported_media_type"),
])
def test_files_that_cannot_be_read_are_refused_and_nothing_is_sent(gw, rpc, enrollment, data, content_type,
                                                                   status, code):
    error(upload(gw, data, content_type), status, code)
    assert rpc.calls_to("enrollment", "import_rows") == []


def test_a_bad_header_names_what_is_missing(gw, enrollment):
    body = error(upload(gw, b"national_id,first_name\n1,a\n"), 422, "invalid_file")
    assert body["description"] == "the header row does not name the learner columns"
    assert any("missing: last_name" in m for m in body["errors"]["columns"])


def test_a_refusal_before_reading_the_file_stops_the_import(gw, rpc):
    Enrollment(rpc, check=LecError("round_not_open", "the round is closed"))
    error(upload(gw, csv_file(learner_rows(2))), 409, "round_not_open")
    assert rpc.calls_to("enrollment", "import_rows") == []


def test_a_failure_after_some_batches_reports_what_was_imported(make_gateway, rpc, env):
    env(LEC_IMPORT_BATCH=2)
    service = Enrollment(rpc, fail_on={2: LecError("unit_confirmed", "the school confirmed meanwhile")})
    gw = make_gateway()
    body = error(upload(gw, csv_file(learner_rows(6))), 409, "unit_confirmed")
    assert "the rows before it were imported" in body["description"]
    stored = sum(len(b[3]) for i, b in enumerate(service.batches, start=1) if i != 2)
    assert body["accepted"] == body["rows"] == stored > 0


def test_a_failure_of_the_first_batch_is_the_plain_error(gw, rpc):
    Enrollment(rpc, fail_on={1: LecError("service_unavailable", "enrollment did not answer within 120s")})
    body = error(upload(gw, csv_file(learner_rows(2))), 503, "service_unavailable")
    assert "rows" not in body and body["description"] == "enrollment did not answer within 120s"


def test_only_the_institution_imports_its_learners(gw, rpc, enrollment):
    for who, status, code in (("lao", 403, "forbidden"), ("province", 403, "forbidden"),
                              ("school_b", 404, "not_found"), ("cdc", 404, "not_found")):
        error(upload(gw, csv_file(learner_rows(1)), who=who), status, code)
    assert rpc.service_calls() == []


def test_an_upload_may_exceed_the_json_limit_but_not_the_upload_limit(make_gateway, enrollment):
    data = csv_file(learner_rows(200))
    assert upload(make_gateway(max_body=1024), data).json["rows"] == 200
    error(upload(make_gateway(max_upload=1024), data), 413, "payload_too_large")


def xlsx(rows, header=("national_id", "first_name", "last_name", "sex", "birth_date", "grade")):
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_with_numbers_and_dates_is_read(gw, enrollment):
    data = xlsx([[1100000000002, "ก", "ข", "ชาย", dt.date(2018, 5, 12), "ป.2"],
                 ["1100000000003", "ค", "ง", "F", "31/01/2561", "p3"]])
    body = upload(gw, data, XLSX).json
    assert body["accepted"] == 2
    batch = enrollment.batches[0][3]
    assert batch[0] == [2, "1100000000002", None, None, "ก", "ข", "M", "2018-05-12", "p2", None]
    assert batch[1][7:9] == ["2018-01-31", "p3"]


def multipart(name, filename, data, boundary="fastboundary"):
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()


def test_a_multipart_form_upload_is_read_from_its_file_part(gw, enrollment):
    r = upload(gw, multipart("file", "learners.csv", csv_file(learner_rows(2))),
               "multipart/form-data; boundary=fastboundary")
    assert r.status_code == 200, r.text
    assert r.json["accepted"] == 2


def test_a_form_without_a_file_part_is_a_validation_error(gw, enrollment):
    r = upload(gw, multipart("other", "x.csv", b"a"), "multipart/form-data; boundary=fastboundary")
    assert error(r, 422, "validation_error")["errors"] == {"file": ["required"]}


# -- staff ---------------------------------------------------------------------------------------------

STAFF_HEADER = ",".join(staff_file.template_row()) + "\n"


def staff_rows(n):
    return [[f"11{i:011d}", "นาง", f"ชื่อ{i}", f"สกุล{i}", "ครูผู้ดูแลเด็ก", "ข้าราชการ", "", "1/6/2560"]
            for i in range(n)]


def test_a_staff_file_goes_to_the_staff_rpcs_in_its_columns(gw, rpc, enrollment):
    r = upload(gw, codecs.BOM_UTF8 + csv_file(staff_rows(2), STAFF_HEADER), url=STAFF_URL)
    assert r.status_code == 200, r.text
    assert r.json == {"accepted": 2, "unchanged": 0, "rejected": [], "rejected_total": 0, "rows": 2}
    assert [c.args for c in rpc.calls_to("enrollment", "staff_import_check")] == [(1, 4)]
    assert rpc.calls_to("enrollment", "import_rows") == []
    (call,) = rpc.calls_to("enrollment", "import_staff_rows")
    assert call.args[2] == list(staff_file.IMPORT_COLUMNS)
    assert call.args[3][0] == [2, "1100000000000", "นาง", "ชื่อ0", "สกุล0", "caregiver_teacher", "civil_servant",
                               None, "2017-06-01"]
    assert call.thread.startswith("import-sender")  # the learner import's sender threads


def test_units_above_an_institution_import_its_staff_too(gw, rpc, enrollment):
    data = csv_file(staff_rows(1), STAFF_HEADER)
    for who in ("lao", "province", "department", "school"):
        assert upload(gw, data, who=who, url=STAFF_URL).status_code == 200, who
    error(upload(gw, data, who="school_b", url=STAFF_URL), 404, "not_found")
    assert [c.actor.user_id for c in rpc.calls_to("enrollment", "import_staff_rows")] == [103, 102, 101, 104]


def test_a_learner_file_is_not_a_staff_file(gw, rpc, enrollment):
    body = error(upload(gw, csv_file(learner_rows(1)), url=STAFF_URL), 422, "invalid_file")
    assert body["description"] == "the header row does not name the staff columns"
    assert rpc.calls_to("enrollment", "import_staff_rows") == []


def test_staff_batches_go_one_at_a_time_in_file_order(make_gateway, rpc, env):
    env(LEC_IMPORT_BATCH=1)
    service = Enrollment(rpc, delay=0.01)
    gw = make_gateway()
    assert upload(gw, csv_file(staff_rows(5), STAFF_HEADER), url=STAFF_URL).json["accepted"] == 5
    assert service.most_in_flight == 1
    assert [b[3][0][0] for b in service.batches] == [2, 3, 4, 5, 6]


# -- templates and export ----------------------------------------------------------------------------

def test_the_import_templates_name_the_columns_in_thai(gw):
    r = gw.get("/learners/import-template", "lao")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(codecs.BOM_UTF8)
    assert r.content.decode("utf-8-sig").strip().split(",") == fileformat.template_row()
    book = load_workbook(io.BytesIO(gw.get("/learners/import-template?format=xlsx", "lao").content))
    assert [c.value for c in next(book.active.iter_rows())] == fileformat.template_row()
    error(gw.get("/learners/import-template?format=pdf", "lao"), 422, "validation_error")
    staff = gw.get("/staff/import-template", "school")
    assert staff.content.decode("utf-8-sig").strip().split(",") == staff_file.template_row()
    assert gw.rpc.service_calls() == []


def test_the_export_reads_pages_until_a_short_one(make_gateway, rpc, monkeypatch):
    from gateway.resources.enrollment import LearnerExport
    monkeypatch.setattr(LearnerExport, "page", 2)
    learners = [{"id": i, "national_id": f"110000000000{i}", "first_name": f"ชื่อ{i}", "last_name": "x",
                 "sex": "M", "birth_date": "2018-01-01", "grade": "p1"} for i in range(1, 4)]
    rpc.answer("enrollment", "export_page",
               lambda round_id, iid, after, limit: [x for x in learners if x["id"] > after][:limit])
    gw = make_gateway()
    r = gw.get("/rounds/1/institutions/4/learners/export", "lao")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(fileformat.EXPORT_COLUMNS) and len(lines) == 4
    assert [c.args[2:] for c in rpc.calls_to("enrollment", "export_page")] == [(0, 2), (2, 2)]
    error(gw.get("/rounds/1/institutions/8/learners/export", "lao"), 404, "not_found")
