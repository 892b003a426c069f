"""Hand-built XLSX workbooks for tests (zipfile only): the smallest workbook
openpyxl reads, and bombs that unpack far beyond their size."""
import io
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
{}</Types>"""
SHARED_TYPE = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="learners" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>
{{}}</Relationships>"""
SHARED_REL = f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'

HEADER = ["national_id", "first_name", "last_name", "sex", "birth_date", "grade"]


def sheet(rows, dimension=None):
    """A worksheet whose cells are shared-string indexes (ints) or inline text (str)."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">']
    if dimension:
        out.append(f'<dimension ref="{dimension}"/>')
    out.append("<sheetData>")
    for r, row in enumerate(rows, start=1):
        out.append(f'<row r="{r}">')
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(value, int):
                out.append(f'<c r="{ref}" t="s"><v>{value}</v></c>')
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def shared(strings):
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}">{items}</sst>'


def workbook(sheet_xml, shared_xml=None, extra=()):
    """The bytes of an XLSX file; each part is bytes, str or an iterable of
    byte chunks (streamed into the archive, for parts too large to hold)."""
    buffer = io.BytesIO()
    parts = [("[Content_Types].xml", CONTENT_TYPES.format(SHARED_TYPE if shared_xml is not None else "")), ("_rels/.rels", ROOT_RELS),
             ("xl/workbook.xml", WORKBOOK),
             ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(SHARED_REL if shared_xml is not None else "")),
             ("xl/worksheets/sheet1.xml", sheet_xml)]
    if shared_xml is not None:
        parts.append(("xl/sharedStrings.xml", shared_xml))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in [*parts, *extra]:
            with archive.open(name, "w", force_zip64=True) as part:
                chunks = [content] if isinstance(content, (bytes, str)) else content
                for chunk in chunks:
                    part.write(chunk.encode() if isinstance(chunk, str) else chunk)
    return buffer.getvalue()


def huge_shared_string(mib):
    """One shared string of ``mib`` MiB, streamed (the file stays small)."""
    def chunks():
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="2"><si><t>'.encode()
        block = b"a" * (1 << 20)
        for _ in range(mib):
            yield block
        yield b"</t></si><si><t>x</t></si></sst>"
    return workbook(sheet([HEADER, [1, 1, 1, 1, 1, 1]]), chunks())


def many_shared_strings(count):
    def chunks():
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
        block = b"<si><t>a</t></si>" * 10_000
        for _ in range(count // 10_000):
            yield block
        yield b"</sst>"
    return workbook(sheet([HEADER, [0, 0, 0, 0, 0, 0]]), chunks())
