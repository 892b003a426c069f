"""A report table (``services.reporting.tables``) as CSV, XLSX or a printable
HTML page. Pure: bytes or text out, no I/O.

- No cell of a CSV or XLSX file is a formula: text that a spreadsheet program
  would read as one (a unit named ``=HYPERLINK(...)``) gets a leading ``'``
  (``services.common.text.spreadsheet_cell``), and XLSX text cells are typed
  as strings; numbers stay numbers.
- CSV: UTF-8 with a byte-order mark (so spreadsheet programs read the Thai
  correctly); a form starts with its title lines; several sections follow one
  another, each after its name.
- XLSX (openpyxl): one sheet per section, title block, two-row headings
  where columns are grouped (merged cells), totals in bold, number formats,
  and print settings: A4 landscape, fit to the page width, headings repeated
  on every page, page numbers in the footer.
- HTML: one page with print CSS (A4 landscape, headings repeated on every
  printed page, signature block), for the browser's print dialog.
"""
import csv
import html
import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from services.common.text import spreadsheet_cell, spreadsheet_row

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html"

FORMATS = {"csv": CSV, "xlsx": XLSX, "html": HTML}
EXTENSIONS = {CSV: "csv", XLSX: "xlsx", HTML: "html"}


def heading(column):
    return f"{column['group']} - {column['label']}" if column.get("group") else column["label"]


def _title_lines(table):
    lines = []
    if table.get("enclosure"):
        lines.append(f"สิ่งที่ส่งมาด้วย {table['enclosure']}")
    return lines + [table["title"], *table.get("subtitle", [])]


# -- CSV ------------------------------------------------------------------------------

class _SafeWriter:
    """A csv writer whose rows go through :func:`spreadsheet_row`."""

    def __init__(self, buf):
        self._out = csv.writer(buf, lineterminator="\r\n")

    def writerow(self, row):
        self._out.writerow(spreadsheet_row(row))


def to_csv(table):
    buf = io.StringIO()
    out = _SafeWriter(buf)
    form = bool(table.get("enclosure"))
    if form:
        for line in _title_lines(table):
            out.writerow([line])
        out.writerow([])
    several = len(table["sections"]) > 1
    for i, section in enumerate(table["sections"]):
        if i:
            out.writerow([])
        if several or form:
            out.writerow([section["name"]])
        out.writerow([heading(c) for c in section["columns"]])
        for row in section["rows"]:
            out.writerow(["" if v is None else v for v in row])
        if section.get("total"):
            out.writerow(section["total"])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# -- XLSX -----------------------------------------------------------------------------

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
NUMBER_FORMATS = {"int": "#,##0", "money": "#,##0.00"}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(i, name, used):
    base = _SHEET_BAD.sub(" ", f"{i + 1} {name}")[:31].strip() or f"{i + 1}"
    title, n = base, 2
    while title in used:
        title = f"{base[:28]}~{n}"
        n += 1
    used.add(title)
    return title


def to_xlsx(table):
    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    for i, section in enumerate(table["sections"]):
        _write_sheet(wb.create_sheet(_sheet_title(i, section["name"], used)), table, section)
    wb.properties.title = table["title"]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _write_sheet(ws, table, section):
    columns = section["columns"]
    width = max(1, len(columns))
    r = 1
    for line in _title_lines(table) + [section["name"]]:
        _cell(ws, r, 1, line).font = Font(bold=r <= 2, size=14 if line == table["title"] else 12)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
        r += 1
    r += 1
    head_top = r
    grouped = any(c.get("group") for c in columns)
    if grouped:
        _write_grouped_heading(ws, r, columns)
        r += 2
    else:
        for j, c in enumerate(columns, start=1):
            _head_cell(ws, r, j, c["label"])
        r += 1
    ws.print_title_rows = f"{head_top}:{r - 1}"
    ws.freeze_panes = ws.cell(row=r, column=1)
    for row in section["rows"]:
        _write_row(ws, r, columns, row)
        r += 1
    if section.get("total"):
        _write_row(ws, r, columns, section["total"], bold=True)
        r += 1
    for line in table.get("footer") or []:
        r += 1
        _cell(ws, r, max(1, width // 2), line)
    for j, c in enumerate(columns, start=1):
        longest = max([len(str(c["label"]))] + [len(str(row[j - 1])) for row in section["rows"][:500]
                                                if j - 1 < len(row) and row[j - 1] is not None])
        ws.column_dimensions[get_column_letter(j)].width = min(45, max(6, longest + 2))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "หน้า &P / &N"


def _cell(ws, r, j, value):
    """Every cell of a sheet is written here: text is never a formula."""
    cell = ws.cell(row=r, column=j, value=spreadsheet_cell(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def _head_cell(ws, r, j, text):
    cell = _cell(ws, r, j, text)
    cell.font = Font(bold=True)
    cell.fill = HEAD_FILL
    cell.border = BOX
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return cell


def _write_grouped_heading(ws, r, columns):
    j = 1
    while j <= len(columns):
        group = columns[j - 1].get("group")
        if not group:
            _head_cell(ws, r, j, columns[j - 1]["label"])
            _head_cell(ws, r + 1, j, None)
            ws.merge_cells(start_row=r, start_column=j, end_row=r + 1, end_column=j)
            j += 1
            continue
        end = j
        while end < len(columns) and columns[end].get("group") == group:
            end += 1
        _head_cell(ws, r, j, group)
        for k in range(j, end + 1):
            if k > j:
                _head_cell(ws, r, k, None)
            _head_cell(ws, r + 1, k, columns[k - 1]["label"])
        if end > j:
            ws.merge_cells(start_row=r, start_column=j, end_row=r, end_column=end)
        j = end + 1


def _write_row(ws, r, columns, values, bold=False):
    for j, value in enumerate(values, start=1):
        cell = _cell(ws, r, j, value)
        cell.border = BOX
        if bold:
            cell.font = Font(bold=True)
        kind = columns[j - 1]["type"] if j - 1 < len(columns) else "text"
        if kind in NUMBER_FORMATS and isinstance(value, (int, float)):
            cell.number_format = NUMBER_FORMATS[kind]


# -- HTML ------------------------------------------------------------------------------

PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm 10mm; }
body { font-family: "TH Sarabun New", "Sarabun", "Noto Sans Thai", "Tahoma", sans-serif; font-size: 11pt;
       color: #000; margin: 0 auto; max-width: 287mm; }
.enclosure { text-align: right; margin: 0; }
h1 { font-size: 14pt; text-align: center; margin: .2em 0; }
p.sub { text-align: center; margin: .1em 0; }
h2 { font-size: 12pt; margin: 1em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #000; padding: 2px 4px; vertical-align: top; }
th { background: #e8ecf2; font-weight: bold; text-align: center; }
td.int, td.money { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
.signature { margin: 2.5em 0 0 55%; line-height: 2; }
.toolbar { margin: 1em 0; }
@media print { .toolbar { display: none; } th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""
# the page's one script: the gateway's Content-Security-Policy allows it (and PRINT_CSS) by hash
PRINT_SCRIPT = 'document.getElementById("print").addEventListener("click", () => window.print());'


def _fmt(value, kind):
    if value is None or value == "":
        return ""
    if kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if kind in ("int", "money") and isinstance(value, (int, float)):
        return f"{value:,.2f}"
    return str(value)


def to_html(table):
    e = html.escape
    parts = ["<!doctype html>", '<html lang="th"><head><meta charset="utf-8">',
             f"<title>{e(table['title'])}</title><style>{PRINT_CSS}</style></head><body>",
             '<div class="toolbar"><button id="print" type="button">พิมพ์ · Print</button></div>']
    if table.get("enclosure"):
        parts.append(f'<p class="enclosure">สิ่งที่ส่งมาด้วย {table["enclosure"]}</p>')
    parts.append(f"<h1>{e(table['title'])}</h1>")
    parts += [f'<p class="sub">{e(line)}</p>' for line in table.get("subtitle", [])]
    for section in table["sections"]:
        parts.append(f"<h2>{e(section['name'])}</h2>")
        parts.append("<table><thead>" + _html_heading(section["columns"]) + "</thead><tbody>")
        for row in section["rows"]:
            parts.append(_html_row(section["columns"], row))
        if section.get("total"):
            parts.append(_html_row(section["columns"], section["total"], "total"))
        parts.append("</tbody></table>")
    if table.get("footer"):
        parts.append('<div class="signature">' + "<br>".join(e(x) for x in table["footer"]) + "</div>")
    parts.append(f"<script>{PRINT_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _html_row(columns, values, css=None):
    cells = "".join(f'<td class="{columns[i]["type"] if i < len(columns) else "text"}">'
                    f'{html.escape(_fmt(v, columns[i]["type"] if i < len(columns) else "text"))}</td>'
                    for i, v in enumerate(values))
    return f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>"


def _html_heading(columns):
    e = html.escape
    if not any(c.get("group") for c in columns):
        return "<tr>" + "".join(f"<th>{e(c['label'])}</th>" for c in columns) + "</tr>"
    top, bottom, j = [], [], 0
    while j < len(columns):
        group = columns[j].get("group")
        if not group:
            top.append(f'<th rowspan="2">{e(columns[j]["label"])}</th>')
            j += 1
            continue
        span = 1
        while j + span < len(columns) and columns[j + span].get("group") == group:
            span += 1
        top.append(f'<th colspan="{span}">{e(group)}</th>')
        bottom += [f"<th>{e(c['label'])}</th>" for c in columns[j:j + span]]
        j += span
    return "<tr>" + "".join(top) + "</tr><tr>" + "".join(bottom) + "</tr>"


def render(table, media_type):
    """``(body bytes, media type)`` of the table in ``media_type``."""
    if media_type == CSV:
        return to_csv(table), "text/csv; charset=utf-8"
    if media_type == XLSX:
        return to_xlsx(table), XLSX
    if media_type == HTML:
        return to_html(table).encode("utf-8"), "text/html; charset=utf-8"
    raise ValueError(media_type)
