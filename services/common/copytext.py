"""Rows as the text of ``COPY … FROM STDIN (FORMAT csv)``: the form in which a
batch of imported rows reaches its staging table in one statement.

A row travels as one line: its row number, then its cells, an empty cell for
None (which ``COPY`` reads as NULL; the import treats an empty text as no
value). A row the line cannot carry faithfully stays out, for the caller to
send as values: one with fewer cells than the columns, a cell that is not text,
or a cell holding a control character (a line break among them) or a lone
surrogate (no UTF-8 for it). Such rows are never plainly valid anyway; the
full rules judge them.
"""
import csv
import re

_NOT_CARRIED = re.compile("[\x00-\x1f\ud800-\udfff]").search


class CopyText:
    """The lines of one batch, ``width`` cells to a row (cells beyond are dropped:
    no column names them)."""

    def __init__(self, width):
        self.width = width
        self.lines: list = []
        self._written: list = []
        self._write = csv.writer(_Sink(self._written), lineterminator="\n").writerow

    def line(self, number, values):
        """The row's line, or None (the line cannot carry it)."""
        width = self.width
        if len(values) < width:
            return None
        if len(values) > width:
            values = values[:width]
        for value in values:
            if value is not None and type(value) is not str:
                return None
        self._write((number, *values))
        line = self._written.pop()
        if _NOT_CARRIED(line, 0, len(line) - 1):
            return None
        return line

    def add(self, number, values):
        """Add the row's line; False when the line cannot carry it."""
        line = self.line(number, values)
        if line is None:
            return False
        self.lines.append(line)
        return True

    def __len__(self):
        return len(self.lines)

    def text(self):
        return "".join(self.lines)


class _Sink:
    """What csv's writer writes to: each row's line kept as one string."""
    __slots__ = ("write",)

    def __init__(self, lines):
        self.write = lines.append
