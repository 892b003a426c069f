"""A file row's values through the header's plan (text cells, conversions
remembered) are what the cell-by-cell reading gives, for CSV text cells and
XLSX's typed ones, ragged rows and files with one identity column."""
import datetime as dt
import random

from gateway import fileformat

TITLES = ["ลำดับ", "เลขประจำตัวประชาชน", "รหัส G", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเดือนปีเกิด",
          "ชั้น", "สัญชาติ"]
CELLS = [None, "", " ", "1101700203450", "G644200000001", "g644200000001", "ชาย", "หญิง", "ญ", "2", "F",
         "ป.1", "อ. 3", "ม.๖", "ศพด.", "cdc", "k9", "01/06/2562", "1 มิ.ย. 2562", "2019-06-01", "31/02/2562",
         "๐๑/๐๖/๒๕๖๒", "สมชาย", " ใจดี ", "=x", 1101700203450.0, 2.0, 12, True,
         dt.date(2562, 6, 1), dt.datetime(2019, 6, 1, 8, 0), dt.date(2020, 2, 29)]


def both(header, cells):
    return header.values(cells), header._values(cells)


def test_the_plan_reads_every_cell_as_the_cells_are_read_one_by_one():
    rng = random.Random(7)
    for titles in (TITLES, TITLES[:2] + TITLES[3:], ["id", *TITLES[3:]], list(reversed(TITLES))):
        header = fileformat.Header(titles)
        for _ in range(3000):
            cells = [rng.choice(CELLS) for _ in range(rng.randint(0, len(titles) + 2))]
            fast, slow = both(header, cells)
            assert fast == slow, cells
            assert fast == both(header, cells)[0]  # remembered conversions answer alike


def test_a_realistic_row():
    header = fileformat.Header(TITLES)
    row = ["1", "1101700203450", "", "เด็กหญิง", "สมหญิง", "ใจดี", "หญิง", "01/06/2562", "ป.1", "ไทย"]
    assert header.values(row) == ["1101700203450", None, "เด็กหญิง", "สมหญิง", "ใจดี", "F", "2019-06-01",
                                  "p1", "ไทย"]
