"""The staff file (CSV or XLSX) as officers fill it in: its columns under their
English or Thai titles, terms in either language, and the template's header row."""
from gateway.fileformat import Columns
from services.common import staff as vocabulary
from services.enrollment.staff_schemas import IMPORT_COLUMNS

ALIASES = {
    "national_id": ("national_id", "national id number", "citizen_id", "pid", "id_card",
                    "เลขประจำตัวประชาชน", "เลขบัตรประชาชน", "เลขบัตรประจำตัวประชาชน",
                    "เลขประจำตัวประชาชน 13 หลัก"),
    "prefix": ("prefix", "title", "คำนำหน้า", "คำนำหน้าชื่อ"),
    "first_name": ("first_name", "firstname", "given_name", "ชื่อ"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "นามสกุล"),
    "position": ("position", "ตำแหน่ง"),
    "employment_type": ("employment_type", "employment", "ประเภทการจ้าง", "ประเภทบุคลากร", "สถานะการจ้าง"),
    "qualification": ("qualification", "วุฒิการศึกษา", "วุฒิ"),
    "start_date": ("start_date", "วันที่เริ่มปฏิบัติงาน", "วันเริ่มงาน", "วันที่เริ่มงาน"),
}
THAI_HEADERS = {"national_id": "เลขประจำตัวประชาชน", "prefix": "คำนำหน้า", "first_name": "ชื่อ",
                "last_name": "นามสกุล", "position": "ตำแหน่ง", "employment_type": "ประเภทการจ้าง",
                "qualification": "วุฒิการศึกษา", "start_date": "วันที่เริ่มปฏิบัติงาน"}
REQUIRED = ("national_id", "first_name", "last_name", "position", "employment_type")


def _key(title):
    import re
    text = str(title or "").replace("\ufeff", "").strip().casefold()
    return re.sub(r"[\s_\-]+", " ", text).strip()


_BY_TITLE = {_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}
_TERMS = {}
for _vocab in (vocabulary.POSITIONS, vocabulary.EMPLOYMENT_TYPES, vocabulary.QUALIFICATIONS):
    _TERMS[id(_vocab)] = {**{_key(k): k for k in _vocab}, **{_key(v): k for k, v in _vocab.items()}}
del _vocab


def _term(vocab, value):
    """A cell naming a term in English or Thai -> the term (anything else as it is)."""
    from gateway.fileformat import text
    raw = text(value)
    if raw is None:
        return None
    return _TERMS[id(vocab)].get(_key(raw), raw.strip())


class Header(Columns):
    """The columns of a staff file."""

    def __init__(self, cells):
        from gateway.fileformat import invalid_file
        self.positions = {}
        errors = []
        for index, title in enumerate(cells):
            field = _BY_TITLE.get(_key(title))
            if field is None:
                continue
            if field in self.positions:
                errors.append(f"{title!s}: a second column for {field}")
            self.positions[field] = index
        missing = [f for f in REQUIRED if f not in self.positions]
        if missing:
            errors.append(f"missing: {', '.join(missing)}")
        if errors:
            raise invalid_file("the header row does not name the staff columns", columns=errors)

    def values(self, cells):
        from gateway.fileformat import birth_date, text
        return [
            text(self._cell(cells, "national_id")), text(self._cell(cells, "prefix")),
            text(self._cell(cells, "first_name")), text(self._cell(cells, "last_name")),
            _term(vocabulary.POSITIONS, self._cell(cells, "position")),
            _term(vocabulary.EMPLOYMENT_TYPES, self._cell(cells, "employment_type")),
            _term(vocabulary.QUALIFICATIONS, self._cell(cells, "qualification")),
            birth_date(self._cell(cells, "start_date")),
        ]


def records(numbered_rows):
    """``(row_number, values in IMPORT_COLUMNS order)`` for each data row, read as
    :func:`gateway.fileformat.records` reads learners' files."""
    from gateway.fileformat import records as file_records
    return file_records(numbered_rows, Header, "staff")


def template_row():
    return [THAI_HEADERS[c] for c in IMPORT_COLUMNS]

