"""Rows as COPY text (services.common.copytext): what a line carries, and what it leaves out."""
import csv
import io

from services.common.copytext import CopyText


def read(text):
    return [[None if v == "" else v for v in row] for row in csv.reader(io.StringIO(text))]


def test_plain_rows_come_back_as_they_went():
    lines = CopyText(4)
    rows = [["a", None, 'q"uote, comma', "ณ เชียงใหม่"], ["\\.", "\\", " spaced ", "é"]]
    for n, values in enumerate(rows, start=2):
        assert lines.add(n, values)
    assert len(lines) == 2
    assert read(lines.text()) == [[str(n), *values] for n, values in enumerate(rows, start=2)]


def test_cells_beyond_the_columns_are_dropped():
    lines = CopyText(2)
    assert lines.add(2, ["a", "b", "c"])
    assert lines.text() == "2,a,b\n"


def test_what_a_line_cannot_carry_is_left_out():
    lines = CopyText(3)
    for values in (["a", "b"], ["a", 5, "c"], ["a", ["b"], "c"], ["a\tb", "b", "c"], ["a", "b\nc", "d"],
                   ["a", "b\r", "c"], ["\x00", "b", "c"], ["a", "\ud800", "c"], ["a", "b", "\x1f"]):
        assert lines.line(2, values) is None, values
        assert not lines.add(2, values)
    assert len(lines) == 0 and lines.text() == ""
    assert lines.add(3, ["a", "b", "c"]) and lines.text() == "3,a,b,c\n"
