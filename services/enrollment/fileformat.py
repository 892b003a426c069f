"""The learner file format officers exchange with spreadsheets: CSV and XLSX.

Reading is incremental: :func:`read_csv` decodes and parses a binary stream
as it arrives (UTF-8 with or without BOM; Windows Thai cp874 when the start of
the file is not UTF-8), :func:`read_xlsx` reads a file on disk with openpyxl's
read-only mode. Both yield ``(row_number, cells)``, row 1 being the header.
:class:`Header` maps English or Thai column titles to the API's fields and
turns each row into the values :data:`COLUMNS` lists, translating the usual
spreadsheet forms (ชาย/หญิง, ป.1, 01/06/2560 in the Buddhist era) and leaving
anything else as it is, for the service to judge.
"""
import codecs
import csv
import datetime as dt
import io
import re

from services.common.errors import LecError

COLUMNS = ("national_id", "g_code", "prefix", "first_name", "last_name", "sex", "birth_date",
           "grade", "nationality")
REQUIRED = ("first_name", "last_name", "sex", "birth_date", "grade")
EXPORT_COLUMNS = ("learner_id",) + COLUMNS

# accepted column titles (compared case-, space-, '_'- and '-'-insensitively)
ALIASES = {
    "national_id": ("national_id", "national id number", "citizen_id", "pid", "id_card",
                    "เลขประจำตัวประชาชน", "เลขบัตรประชาชน", "เลขบัตรประจำตัวประชาชน",
                    "เลขประจำตัวประชาชน 13 หลัก"),
    "g_code": ("g_code", "gcode", "รหัส g", "รหัส g code", "เลข g", "รหัสประจำตัวผู้เรียน g code"),
    "id_number": ("id", "id_number", "เลขประจำตัว", "รหัสประจำตัว"),
    "prefix": ("prefix", "title", "คำนำหน้า", "คำนำหน้าชื่อ"),
    "first_name": ("first_name", "firstname", "given_name", "ชื่อ"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "นามสกุล"),
    "sex": ("sex", "gender", "เพศ"),
    "birth_date": ("birth_date", "birthdate", "date_of_birth", "dob", "วันเกิด", "วันเดือนปีเกิด",
                   "วัน/เดือน/ปีเกิด", "วันเดือนปี เกิด"),
    "grade": ("grade", "class", "ชั้น", "ระดับชั้น", "ชั้นเรียน"),
    "nationality": ("nationality", "สัญชาติ"),
    "learner_id": ("learner_id",),  # written by the export, ignored by the import
}
THAI_HEADERS = {"national_id": "เลขประจำตัวประชาชน", "g_code": "รหัส G", "prefix": "คำนำหน้า",
                "first_name": "ชื่อ", "last_name": "นามสกุล", "sex": "เพศ", "birth_date": "วันเกิด",
                "grade": "ชั้น", "nationality": "สัญชาติ", "learner_id": "learner_id"}

XLSX_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024


def _key(title):
    text = str(title or "").replace("\ufeff", "").strip().casefold()
    return re.sub(r"[\s_\-]+", " ", text).strip()


_BY_TITLE = {_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}


def invalid_file(message, **errors):
    return LecError("invalid_file", message, {"errors": errors} if errors else None)


# -- cell values ----------------------------------------------------------------------------

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SEX = {"m": "M", "male": "M", "ชาย": "M", "ช": "M", "ด.ช.": "M", "1": "M",
        "f": "F", "female": "F", "หญิง": "F", "ญ": "F", "ด.ญ.": "F", "2": "F"}
_GRADE_STAGE = (("อนุบาล", "k"), ("ประถมศึกษาปีที่", "p"), ("มัธยมศึกษาปีที่", "m"),
                ("อ", "k"), ("ป", "p"), ("ม", "m"), ("k", "k"), ("p", "p"), ("m", "m"))
_CDC = ("cdc", "ศพด", "เด็กเล็ก", "ศูนย์พัฒนาเด็กเล็ก")
_MONTHS = {name: i + 1 for i, names in enumerate((
    ("มกราคม", "ม.ค."), ("กุมภาพันธ์", "ก.พ."), ("มีนาคม", "มี.ค."), ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."), ("มิถุนายน", "มิ.ย."), ("กรกฎาคม", "ก.ค."), ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."), ("ตุลาคม", "ต.ค."), ("พฤศจิกายน", "พ.ย."), ("ธันวาคม", "ธ.ค."))) for name in names}
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_THAI_DATE = re.compile(r"^(\d{1,2})\s*(\S+?)\s*(\d{4})$")


def text(value):
    """A cell as text: whole numbers without '.0' (IDs typed as numbers), dates ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _ce(year):
    """Years above 2400 are Buddhist era."""
    return year - 543 if year > 2400 else year


def birth_date(value):
    if isinstance(value, (dt.date, dt.datetime)):
        day = value.date() if isinstance(value, dt.datetime) else value
        try:
            return day.replace(year=_ce(day.year)).isoformat()
        except ValueError:  # 29 February of a BE year that is not a CE leap year
            return day.isoformat()
    raw = text(value)
    if raw is None:
        return None
    s = raw.strip().translate(_THAI_DIGITS)
    parts = None
    if m := _ISO_DATE.match(s):
        parts = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _NUMERIC_DATE.match(s):
        parts = int(m.group(3)), int(m.group(2)), int(m.group(1))
    elif (m := _THAI_DATE.match(s)) and m.group(2) in _MONTHS:
        parts = int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1))
    if parts is None:
        return raw
    try:
        return dt.date(_ce(parts[0]), parts[1], parts[2]).isoformat()
    except ValueError:
        return raw


def sex(value):
    raw = text(value)
    if raw is None:
        return None
    return _SEX.get(raw.strip().casefold(), raw)


def grade(value):
    raw = text(value)
    if raw is None:
        return None
    s = re.sub(r"[\s.]+", "", raw.strip().casefold().translate(_THAI_DIGITS))
    if s in _CDC:
        return "cdc"
    for stage, code in _GRADE_STAGE:
        rest = s[len(stage):] if s.startswith(stage) else None
        if rest and rest.isdigit():
            return f"{code}{int(rest)}"
    return raw


def identity(value):
    """An ID column that may hold either kind: a G-Code starts with G."""
    raw = text(value)
    if raw is None:
        return None, None
    s = raw.strip()
    return (None, s) if s[:1] in ("G", "g") else (s, None)


# -- the header --------------------------------------------------------------------------------

class Header:
    """The columns of a file: which cell holds which field."""

    def __init__(self, cells):
        self.positions = {}
        errors = {}
        for index, title in enumerate(cells):
            field = _BY_TITLE.get(_key(title))
            if field is None or field == "learner_id":
                continue
            if field in self.positions:
                errors.setdefault("columns", []).append(f"{title!s}: a second column for {field}")
            self.positions[field] = index
        if not any(k in self.positions for k in ("national_id", "g_code", "id_number")):
            errors.setdefault("columns", []).append(
                "no identity column (national_id / เลขประจำตัวประชาชน, or g_code / รหัส G)")
        missing = [f for f in REQUIRED if f not in self.positions]
        if missing:
            errors.setdefault("columns", []).append(f"missing: {', '.join(missing)}")
        if errors:
            raise invalid_file("the header row does not name the learner columns", **errors)

    def _cell(self, cells, field):
        index = self.positions.get(field)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        if isinstance(value, str):
            value = value if value.strip() else None
        return value

    def values(self, cells):
        """The row's values in :data:`COLUMNS` order, in the API's forms."""
        nid, gcode = text(self._cell(cells, "national_id")), text(self._cell(cells, "g_code"))
        if "id_number" in self.positions and nid is None and gcode is None:
            nid, gcode = identity(self._cell(cells, "id_number"))
        return [
            nid, gcode, text(self._cell(cells, "prefix")), text(self._cell(cells, "first_name")),
            text(self._cell(cells, "last_name")), sex(self._cell(cells, "sex")),
            birth_date(self._cell(cells, "birth_date")), grade(self._cell(cells, "grade")),
            text(self._cell(cells, "nationality")),
        ]


def records(numbered_rows):
    """``(row_number, values)`` for each data row after the header; rows with
    nothing in the learner columns (a pre-numbered empty line) are skipped."""
    header = None
    for number, cells in numbered_rows:
        if header is None:
            if any(c is not None and str(c).strip() for c in cells):
                header = Header(cells)
            continue
        values = header.values(cells)
        if any(v is not None for v in values):
            yield number, values
    if header is None:
        raise invalid_file("the file is empty: a header row and learner rows are expected")


# -- reading ------------------------------------------------------------------------------------

class _Prefixed(io.RawIOBase):
    """A byte stream that first gives back bytes already read from it."""

    def __init__(self, head, stream):
        self._head = memoryview(head)
        self._stream = stream

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def sniff(stream):
    """Read the start of an upload: ``(head bytes, "xlsx" | "csv")``."""
    head = b""
    while len(head) < SNIFF_BYTES:
        chunk = stream.read(SNIFF_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head, ("xlsx" if head.startswith(XLSX_MAGIC) else "csv")


def _encoding(head):
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp874"


def read_csv(head, stream):
    """Parse CSV incrementally: ``head`` (from :func:`sniff`) and then the rest of ``stream``."""
    text_stream = io.TextIOWrapper(io.BufferedReader(_Prefixed(head, stream), 1 << 16),
                                   encoding=_encoding(head), newline="")
    reader = csv.reader(text_stream)
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells
    except UnicodeDecodeError:
        raise invalid_file(f"the file is not valid UTF-8 after row {number}")
    except csv.Error as exc:
        raise invalid_file(f"row {number + 1} is not valid CSV: {exc}")


def read_xlsx(path):
    """Rows of the first sheet of an XLSX file (openpyxl read-only mode)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    from zipfile import BadZipFile
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError) as exc:
        raise invalid_file(f"not a readable XLSX workbook: {exc}")
    try:
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


# -- writing --------------------------------------------------------------------------------------

def header_row(thai=False):
    """The export's titles: the API's field names, or the Thai ones officers use."""
    return [THAI_HEADERS[c] if thai else c for c in EXPORT_COLUMNS]


def export_row(learner):
    return [learner.get(c) if c != "learner_id" else learner["id"] for c in EXPORT_COLUMNS]


def csv_chunks(pages, thai=False):
    """CSV bytes (UTF-8 with BOM, so spreadsheets show Thai) from pages of learners."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_row(thai))
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    for learners in pages:
        buffer.seek(0)
        buffer.truncate()
        for learner in learners:
            writer.writerow(export_row(learner))
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(pages, fileobj, title="learners", thai=False):
    """An XLSX workbook (openpyxl write-only) from pages of learners."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(header_row(thai))
    for learners in pages:
        for learner in learners:
            row = export_row(learner)
            born = EXPORT_COLUMNS.index("birth_date")
            if row[born]:
                row[born] = dt.date.fromisoformat(row[born])
            sheet.append(row)
    book.save(fileobj)
