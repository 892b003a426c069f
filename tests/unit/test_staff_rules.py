"""Staff rules without a database: the vocabulary, the checks of a record, the file's header and cells."""
import datetime as dt

import pytest
from stdnum.th import pin

from services.common import staff as vocabulary
from services.common.errors import LecError
from services.common.values import Round
from gateway import staff_file
from services.enrollment import staff

ROUND = Round.from_record({"id": 1, "academic_year": 2569, "number": 1, "census_date": "2026-06-10"})


def nid(body="110370207181"):
    return body + pin.calc_check_digit(body)


def record(**over):
    data = {"national_id": nid(), "prefix": "นาง", "first_name": "มาลี", "last_name": "ศรีสุข",
            "position": "caregiver", "employment_type": "civil_servant", "qualification": None,
            "start_date": dt.date(2020, 5, 16)}
    data.update(over)
    return data


def test_counts_list_every_position_in_order():
    assert vocabulary.staff_counts({"teacher": 2, "caregiver": 1}) == {
        "total": 3, "by_position": {"caregiver_teacher": 0, "caregiver": 1, "teacher": 2}}


def test_a_record_is_checked_like_a_learner():
    clean = staff.check_staff(record(national_id="1-1037-02071-81-" + nid()[-1]), ROUND)
    assert clean["national_id"] == nid()
    bad = nid()[:-1] + str((int(nid()[-1]) + 1) % 10)
    with pytest.raises(LecError) as exc:
        staff.check_staff(record(national_id=bad), ROUND)
    assert exc.value.code == "invalid_national_id"
    for over, field in (({"start_date": dt.date(2026, 6, 11)}, "start_date"),
                        ({"first_name": "=SUM(A1)"}, "first_name"), ({"start_date": dt.date(1900, 1, 1)}, "start_date")):
        with pytest.raises(LecError) as exc:
            staff.check_staff(record(**over), ROUND)
        assert exc.value.code == "validation_error" and field in exc.value.extra["errors"], over


def test_thai_headers_and_terms_become_the_api_values():
    header = staff_file.Header(["เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "ตำแหน่ง", "ประเภทการจ้าง",
                           "วุฒิการศึกษา", "วันที่เริ่มปฏิบัติงาน"])
    values = header.values([nid(), "มาลี", "ศรีสุข", "ครูผู้ดูแลเด็ก", "พนักงานจ้างตามภารกิจ",
                            "ปริญญาตรี การศึกษาปฐมวัย", "16/05/2563"])
    assert dict(zip(staff.IMPORT_COLUMNS, values)) == {
        "national_id": nid(), "prefix": None, "first_name": "มาลี", "last_name": "ศรีสุข",
        "position": "caregiver_teacher", "employment_type": "mission_employee",
        "qualification": "bachelor_ece", "start_date": "2020-05-16"}
    # an unknown term is left as it is, for the service to refuse
    assert header.values([nid(), "ก", "ข", "แม่ครัว", "other", None, None])[4] == "แม่ครัว"


def test_a_header_without_the_staff_columns_is_an_invalid_file():
    with pytest.raises(LecError) as exc:
        staff_file.Header(["national_id", "first_name", "last_name", "sex", "grade"])
    assert exc.value.code == "invalid_file" and "position" in str(exc.value.extra)
    with pytest.raises(LecError) as exc:
        list(staff_file.records(iter([])))
    assert exc.value.code == "invalid_file"
