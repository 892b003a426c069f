"""The learner file format officers exchange with spreadsheets: CSV and XLSX.

Reading is incremental: :func:`read_csv` decodes and parses a binary stream
as it arrives, line by line (UTF-8 with or without BOM; Windows Thai cp874
only for a file whose text is not UTF-8; a row with bytes that do not decode
is reported, never read in another encoding), :func:`read_xlsx` checks a file
on disk (:func:`inspect_xlsx`) and reads it with openpyxl's read-only mode.
Both yield ``(row_number, cells)``, row 1 being the header, and refuse a file
beyond :class:`Limits` (``payload_too_large``).
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
import time
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from services.common import settings
from services.common.errors import LecError
from services.common.text import spreadsheet_row

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


def _remembered(convert, size=4096):
    """``convert`` with its answers for text cells remembered (up to ``size`` of them)."""
    known = {}

    def converted(value):
        if type(value) is not str:
            return convert(value)
        answer = known.get(value)
        if answer is None:
            answer = convert(value)
            if len(known) < size:
                known[value] = answer
        return answer
    return converted


def identity(value):
    """An ID column that may hold either kind: a G-Code starts with G."""
    raw = text(value)
    if raw is None:
        return None, None
    s = raw.strip()
    return (None, s) if s[:1] in ("G", "g") else (s, None)


# -- the header --------------------------------------------------------------------------------

class Columns:
    """What a header row found (``positions``: field -> column index), and a
    row's cell of a field: absent or blank is None."""
    positions: dict

    def _cell(self, cells, field):
        index = self.positions.get(field)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        if isinstance(value, str):
            value = value if value.strip() else None
        return value


class Header(Columns):
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
        # the plan of :meth:`values`: per column of COLUMNS, its cell's index (None: no such
        # column) and its conversion; conversions of text cells are remembered (a file repeats
        # its sexes, grades and birth dates)
        self._plan = tuple((self.positions.get(field), convert) for field, convert in (
            ("national_id", text), ("g_code", text), ("prefix", text), ("first_name", text),
            ("last_name", text), ("sex", _remembered(sex)), ("birth_date", _remembered(birth_date)),
            ("grade", _remembered(grade)), ("nationality", text)))
        self._last = max(self.positions.values())

    def values(self, cells):
        """The row's values in :data:`COLUMNS` order, in the API's forms."""
        if len(cells) <= self._last:
            return self._values(cells)
        out = []
        for index, convert in self._plan:
            value = None if index is None else cells[index]
            if type(value) is str:
                if not value.strip():
                    value = None
                elif convert is text:
                    out.append(value)
                    continue
            out.append(convert(value))
        if out[0] is None and out[1] is None and "id_number" in self.positions:
            out[0], out[1] = identity(self._cell(cells, "id_number"))
        return out

    def _values(self, cells):
        nid, gcode = text(self._cell(cells, "national_id")), text(self._cell(cells, "g_code"))
        if "id_number" in self.positions and nid is None and gcode is None:
            nid, gcode = identity(self._cell(cells, "id_number"))
        return [
            nid, gcode, text(self._cell(cells, "prefix")), text(self._cell(cells, "first_name")),
            text(self._cell(cells, "last_name")), sex(self._cell(cells, "sex")),
            birth_date(self._cell(cells, "birth_date")), grade(self._cell(cells, "grade")),
            text(self._cell(cells, "nationality")),
        ]


def records(numbered_rows, header_type=None, what="learner"):
    """``(row_number, values)`` for each data row after the header; rows with
    nothing in the columns (a pre-numbered empty line) are skipped. A row the
    reader could not decode comes through as ``(row_number, BadRow)``; a header
    it could not decode makes the file unreadable. ``header_type`` maps the
    header row to the columns (learners' by default; staff files bring their own)."""
    header_type = header_type or Header
    header = None
    for number, cells in numbered_rows:
        if isinstance(cells, BadRow):
            if header is None:
                raise invalid_file(f"the header row cannot be read: {cells.message}")
            yield number, cells
            continue
        if header is None:
            if any(c is not None and str(c).strip() for c in cells):
                header = header_type(cells)
            continue
        values = header.values(cells)
        if any(v is not None for v in values):
            yield number, values
    if header is None:
        raise invalid_file(f"the file is empty: a header row and {what} rows are expected")


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """How much one upload may hold. Beyond any of these the file is refused with
    ``payload_too_large`` (413) as soon as the reader meets it; the rows already
    sent stay imported. Each has its setting (the defaults here)."""
    rows: int = 1_048_576            # LEC_IMPORT_MAX_ROWS: rows, the header included (XLSX's own maximum)
    columns: int = 256               # LEC_IMPORT_MAX_COLUMNS
    cell_chars: int = 32_767         # LEC_IMPORT_MAX_CELL_CHARS: one cell (Excel's own maximum)
    row_bytes: int = 1 << 20         # LEC_IMPORT_MAX_ROW_BYTES: one CSV row
    shared_strings: int = 500_000    # LEC_XLSX_MAX_SHARED_STRINGS: entries of the shared-strings table
    shared_chars: int = 16 << 20     # LEC_XLSX_MAX_SHARED_CHARS: characters of the whole table
    xml_bytes: int = 1 << 30         # LEC_XLSX_MAX_XML_BYTES: the workbook's parts, unpacked, in all
    seconds: float = 120.0           # LEC_XLSX_MAX_SECONDS: time spent parsing a workbook

    @classmethod
    def from_env(cls):
        configured = settings.current()
        return cls(rows=configured.import_max_rows,
                   columns=configured.import_max_columns,
                   cell_chars=configured.import_max_cell_chars,
                   row_bytes=configured.import_max_row_bytes,
                   shared_strings=configured.xlsx_max_shared_strings,
                   shared_chars=configured.xlsx_max_shared_chars,
                   xml_bytes=configured.xlsx_max_xml_bytes,
                   seconds=configured.xlsx_max_seconds)


LIMITS = Limits()


def too_large(message):
    return LecError("payload_too_large", message)


class BadRow:
    """A row that cannot be read as text: it is reported (row number, code,
    message) and the other rows go on."""
    code = "validation_error"

    def __init__(self, message):
        self.message = message

    def entry(self, number):
        return {"row": number, "code": self.code, "message": self.message}


def sniff(stream):
    """Read the start of an upload: ``(head bytes, "xlsx" | "csv")``."""
    head = b""
    while len(head) < SNIFF_BYTES:
        chunk = stream.read(SNIFF_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head, ("xlsx" if head.startswith(XLSX_MAGIC) else "csv")


# -- CSV: decoded line by line ------------------------------------------------------------------

def _mostly_utf8(raw):
    """Do valid UTF-8 sequences outnumber the bytes that are not (a UTF-8 line
    with a stray byte, not text in another encoding)?"""
    text = raw.decode("utf-8", "surrogateescape")
    stray = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    return sum(1 for ch in text if ch > "\x7f") - stray > stray


class _Lines:
    """The physical lines of a CSV upload, each decoded on its own, so that memory
    stays flat and one bad byte spoils one row, not the file.

    UTF-8 (a BOM is dropped) is the file's encoding unless the first line that
    is not plain ASCII is not UTF-8 but reads cleanly as Windows Thai (cp874) and
    is not mostly UTF-8; then every line is read as cp874. A line that does not
    decode in the file's encoding (or, in a cp874 file, that is UTF-8) is never
    read in another one: its row is reported as a :class:`BadRow`. A row may be
    at most ``limits.row_bytes`` long."""

    def __init__(self, head, stream, limits):
        self._head = head
        self._stream = stream
        self._limits = limits
        self.encoding = None  # decided by the first line that is not ASCII
        self._bad = None  # what is wrong with a line of the row being read
        self._row_bytes = 0

    def take_row(self):
        """The :class:`BadRow` of the row just parsed (or None); starts the next row."""
        bad, self._bad, self._row_bytes = self._bad, None, 0
        return bad

    def __iter__(self):
        for raw in self._raw_lines():
            self._row_bytes += len(raw)
            if self._row_bytes > self._limits.row_bytes:
                raise too_large(f"a row of the file is longer than {self._limits.row_bytes:,} bytes")
            yield self._decode(raw)

    def _raw_lines(self):
        pending = self._head
        if pending.startswith(codecs.BOM_UTF8):
            pending = pending[len(codecs.BOM_UTF8):]
            self.encoding = "utf-8"
        while True:
            chunk = self._stream.read(1 << 16)
            lines = (pending + chunk).splitlines(keepends=True)
            # the last piece may go on in the next chunk (so may a "\r" before its "\n")
            pending = lines.pop() if chunk and lines and not lines[-1].endswith(b"\n") else b""
            yield from lines
            if not chunk:
                return
            if len(pending) > self._limits.row_bytes:
                raise too_large(f"a row of the file is longer than {self._limits.row_bytes:,} bytes")

    def _decode(self, raw):
        if raw.isascii():
            return raw.decode("ascii")
        if self.encoding == "cp874":
            return self._cp874(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if self.encoding is None and not _mostly_utf8(raw):
                try:
                    text = raw.decode("cp874")
                except UnicodeDecodeError:
                    return self._refuse(raw, f"holds bytes that are neither UTF-8 nor Windows Thai "
                                             f"(cp874) text (0x{raw[exc.start]:02x})")
                self.encoding = "cp874"
                return text
            self.encoding = "utf-8"
            return self._refuse(raw, f"holds bytes that are not valid UTF-8 (0x{raw[exc.start]:02x}); "
                                     "save the file as CSV UTF-8 and import it again")
        self.encoding = "utf-8"
        return text

    def _cp874(self, raw):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return self._refuse(raw, "is UTF-8 text in a Windows Thai (cp874) file; save the whole "
                                     "file in one encoding (CSV UTF-8) and import it again")
        try:
            return raw.decode("cp874")
        except UnicodeDecodeError as exc:
            return self._refuse(raw, f"holds bytes that are not Windows Thai (cp874) text "
                                     f"(0x{raw[exc.start]:02x})")

    def _refuse(self, raw, message):
        self._bad = self._bad or BadRow(f"the row {message}")
        return raw.decode(self.encoding or "utf-8", "replace")


def read_csv(head, stream, limits=LIMITS):
    """Parse CSV incrementally: ``head`` (from :func:`sniff`) and then the rest of
    ``stream``. Yields ``(number, cells)``, or ``(number, BadRow)`` for a row that
    cannot be decoded (see :class:`_Lines`)."""
    lines = _Lines(head, stream, limits)
    number = 0
    try:
        for cells in csv.reader(lines):
            number += 1
            bad = lines.take_row()
            if number > limits.rows or len(cells) > limits.columns \
                    or max(map(len, cells), default=0) > limits.cell_chars:
                _check_row(number, cells, limits)
            yield number, (bad or cells)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise too_large(f"row {number + 1} has a cell longer than {limits.cell_chars:,} characters")
        raise invalid_file(f"row {number + 1} is not valid CSV: {exc}")


def _check_row(number, cells, limits):
    if number > limits.rows:
        raise too_large(f"the file has more than {limits.rows:,} rows")
    if len(cells) > limits.columns:
        raise too_large(f"row {number} has more than {limits.columns:,} columns")
    for cell in cells:
        if isinstance(cell, str) and len(cell) > limits.cell_chars:
            raise too_large(f"row {number} has a cell longer than {limits.cell_chars:,} characters")


# -- XLSX: checked, then read by openpyxl -------------------------------------------------------

class _Clock:
    """Time spent parsing one workbook, against ``limits.seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.spent = 0.0
        self._since = None

    def __enter__(self):
        self._since = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.spent += time.monotonic() - self._since
        self._since = None
        if exc[0] is None:
            self.check()

    def check(self):
        spent = self.spent + (time.monotonic() - self._since if self._since is not None else 0)
        if spent > self.seconds:
            raise too_large(f"the workbook takes longer than {self.seconds:g} seconds to read; "
                            "split it or save it as CSV")


_CELL_REF = re.compile(r"^([A-Za-z]+)([0-9]+)$")
_NO_EVENT_BYTES = 1 << 20  # an XML token (tag, attribute, comment) may be this long


class _XmlScan:
    """What :func:`inspect_xlsx` counts while expat streams the workbook's parts:
    shared strings and their characters, each sheet's rows and each row's cells,
    and the text of every cell or shared string (outside them, between two tags)."""

    def __init__(self, limits, clock):
        self.limits = limits
        self.clock = clock
        self.strings = 0
        self.string_chars = 0
        self.events = 0
        self.part = None
        self._tags = {}  # expat's "namespace}name" -> name

    def _tag(self, name):
        tag = self._tags.get(name)
        if tag is None:
            tag = self._tags[name] = name.rpartition("}")[2]
        return tag

    def start_part(self, name):
        self.part = name
        self.rows = 0
        self.cells = 0
        self.text = 0
        self.scope = None  # "si" or "c" while inside one

    def parser(self):
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        parser.ExternalEntityRefHandler = self._doctype
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        parser.CommentHandler = parser.ProcessingInstructionHandler = self._other
        return parser

    def _doctype(self, *args):
        raise invalid_file(f"{self.part}: a workbook may not hold a DTD or entity declarations")

    def _other(self, *args):
        self.events += 1

    def _start(self, name, attrs):
        self.events += 1
        tag = self._tag(name)
        if tag == "si":
            self.strings += 1
            if self.strings > self.limits.shared_strings:
                raise too_large(f"the workbook has more than {self.limits.shared_strings:,} shared strings")
            self.scope, self.text = "si", 0
        elif tag == "row":
            self._row(attrs.get("r"))
        elif tag == "c":
            self._cell(attrs.get("r"))
        elif self.scope is None:
            self.text = 0

    def _end(self, name):
        self.events += 1
        if self.scope is not None and self._tag(name) == self.scope:
            self.scope = None
        if self.scope is None:
            self.text = 0

    def _data(self, text):
        self.events += 1
        self.text += len(text)
        if self.scope == "si":
            self.string_chars += len(text)
            if self.string_chars > self.limits.shared_chars:
                raise too_large(f"the workbook's shared strings hold more than "
                                f"{self.limits.shared_chars:,} characters")
        if self.text > self.limits.cell_chars:
            raise too_large(f"the workbook has a cell longer than {self.limits.cell_chars:,} characters")

    def _row(self, ref):
        self.rows += 1
        self.cells = 0
        number = self.rows
        if ref is not None:
            if not ref.isdecimal():
                raise invalid_file(f"{self.part}: a row number is not a number")
            number = int(ref) if len(ref) < 20 else self.limits.rows + 1
        if max(number, self.rows) > self.limits.rows:
            raise too_large(f"the sheet has more than {self.limits.rows:,} rows")
        self.text = 0

    def _cell(self, ref):
        self.cells += 1
        column = self.cells
        if ref is not None:
            match = _CELL_REF.match(ref)
            if match is None:
                raise invalid_file(f"{self.part}: a cell reference is not valid")
            column = 0
            for letter in match.group(1).upper()[:4]:
                column = column * 26 + ord(letter) - 64
            if len(match.group(2)) > 19 or int(match.group(2)) > self.limits.rows:
                raise too_large(f"the sheet has more than {self.limits.rows:,} rows")
        if max(column, self.cells) > self.limits.columns:
            raise too_large(f"the sheet has more than {self.limits.columns:,} columns")
        self.scope, self.text = "c", 0

    def feed(self, member, source):
        """Stream one part through expat. A part that is not XML from its first
        byte on (an image) is not read as XML by anyone; one that breaks off
        later is a damaged workbook."""
        self.start_part(member)
        parser = self.parser()
        quiet = 0
        while True:
            chunk = source.read(1 << 16)
            events = self.events
            try:
                parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                if exc.lineno == 1 and exc.offset == 0:
                    return
                raise invalid_file(f"not a readable XLSX workbook: {member} is not well-formed XML ({exc})")
            self.clock.check()
            if not chunk:
                return
            quiet = quiet + len(chunk) if self.events == events else 0
            if quiet > _NO_EVENT_BYTES:
                raise too_large(f"{member}: an XML tag or comment longer than {_NO_EVENT_BYTES:,} bytes")


_MAX_PARTS = 10_000


def _xlsx_errors():
    """What reading a damaged workbook raises (openpyxl parses its XML with
    defusedxml, whose ParseError is a SyntaxError; an encrypted part a RuntimeError)."""
    from openpyxl.utils.exceptions import InvalidFileException
    return (InvalidFileException, zipfile.BadZipFile, zlib.error, EOFError, OSError, LookupError,
            ValueError, TypeError, AttributeError, SyntaxError, RuntimeError)


def inspect_xlsx(path, limits=LIMITS, clock=None):
    """Check a workbook before openpyxl reads it, in flat memory: the archive's
    parts and their unpacked size (ZIP readers never unpack more than a part
    declares), then every part through expat, counting against ``limits``
    (no DTD, so no entity, is accepted). Stops at the first limit crossed."""
    clock = clock or _Clock(limits.seconds)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        raise invalid_file(f"not a readable XLSX workbook: {exc}")
    with archive, clock:
        parts = [m for m in archive.infolist() if not m.is_dir()]
        if len(parts) > _MAX_PARTS:
            raise too_large(f"the workbook has more than {_MAX_PARTS:,} parts")
        if sum(m.file_size for m in parts) > limits.xml_bytes:
            raise too_large(f"the workbook unpacks to more than {limits.xml_bytes:,} bytes")
        scan = _XmlScan(limits, clock)
        for member in parts:
            try:
                with archive.open(member) as source:
                    scan.feed(member.filename, source)
            except _xlsx_errors() as exc:
                raise invalid_file(f"not a readable XLSX workbook: {exc}")
    return clock


def read_xlsx(path, limits=LIMITS):
    """Rows of the first sheet of an XLSX file: checked by :func:`inspect_xlsx`,
    then read with openpyxl's read-only mode (every row as long as its own
    cells, whatever size the sheet declares). Time spent parsing counts
    against ``limits.seconds``."""
    from openpyxl import load_workbook
    errors = _xlsx_errors()
    clock = inspect_xlsx(path, limits)
    with clock:
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except errors as exc:
            raise invalid_file(f"not a readable XLSX workbook: {exc}")
    try:
        if not book.worksheets:
            raise invalid_file("the workbook has no sheet")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            with clock:
                try:
                    cells = next(rows, None)
                except errors as exc:
                    raise invalid_file(f"row {number + 1} of the sheet cannot be read: {exc}")
            if cells is None:
                return
            number += 1
            _check_row(number, cells, limits)
            yield number, list(cells)
    finally:
        book.close()


# -- writing --------------------------------------------------------------------------------------

def header_row(thai=False):
    """The export's titles: the API's field names, or the Thai ones officers use."""
    return [THAI_HEADERS[c] if thai else c for c in EXPORT_COLUMNS]


def template_row():
    """The import template's titles: the Thai ones the import reads, one per column."""
    return [THAI_HEADERS[c] for c in COLUMNS]


def template_chunks():
    """An empty CSV import template (UTF-8 with BOM, so spreadsheets show Thai)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(template_row())
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def write_template_xlsx(fileobj):
    """An empty XLSX import template; every column is typed as text, so that ID
    numbers keep their digits and dates stay as typed (``25/12/2560``)."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "learners"
    sheet.append(template_row())
    for index, title in enumerate(template_row(), start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(title) + 6)
        sheet.column_dimensions[letter].number_format = "@"
    book.save(fileobj)


def export_row(learner):
    """A learner as a row of the export. No cell is a formula: a name stored
    before the name rules refused it (``=...``) comes out with a leading ``'``
    (``services.common.text.spreadsheet_cell``)."""
    return spreadsheet_row(learner.get(c) if c != "learner_id" else learner["id"] for c in EXPORT_COLUMNS)


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
    """An XLSX workbook (openpyxl write-only) from pages of learners; text cells
    are typed as strings (openpyxl would store text starting with '=' as a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])

    def cells(values):
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            yield cell

    sheet.append(list(cells(header_row(thai))))
    born = EXPORT_COLUMNS.index("birth_date")
    for learners in pages:
        for learner in learners:
            row = export_row(learner)
            if row[born]:
                row[born] = dt.date.fromisoformat(row[born])
            sheet.append(list(cells(row)))
    book.save(fileobj)
