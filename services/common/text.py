"""Rules for the text people type, and for text written out to spreadsheets.

- Names (of learners and of org units) and short free-text values (a
  learner's prefix or nationality) never start like a spreadsheet formula
  (``=``, ``+``, ``-``, ``@``, after any leading spaces) and hold no control
  characters (tab and carriage return included): they end up in CSV and XLSX
  files that officers open in spreadsheet programs.
- Free text (reasons, notes, and those names and short values too) holds no
  personal ID: no run of 13 digits (a Thai national ID, written with or without
  spaces or dashes, in Thai or Arabic digits) and no G-Code (G and 12 digits).
  Such text is stored, shown to other units and published to agencies; an ID in
  it would travel with it.
- Every text cell a CSV or XLSX writer emits goes through :func:`spreadsheet_cell`
  (OWASP's advice on CSV injection): a text starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return gets a leading single quote, so that no
  spreadsheet program reads it as a formula; numbers stay numbers (a negative
  number too, and a text that is only a number).
"""
import re

import marshmallow as ma

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# 13 or more digits, possibly separated by spaces or dashes (\d also matches Thai digits)
_ID_RUN = re.compile(r"\d(?:[\s\-\u2010-\u2015]*\d){12,}")
_G_CODE = re.compile(r"(?<![A-Za-z])[Gg][\s\-]*\d(?:[\s\-]*\d){11}")


# -- names and short text -------------------------------------------------------------

def text_problem(value):
    """Why a short free-text value (a prefix, a nationality) cannot be stored and
    exported, or None."""
    if _CONTROL.search(value):
        return "must not contain control characters"
    if value.lstrip().startswith(FORMULA_START):
        return "must not start with =, +, - or @"
    return personal_id_problem(value)


def name_problem(value):
    """Why a name (of a learner or an org unit) is not acceptable, or None.
    Names are stored exactly as given."""
    if not value.strip():
        return "must not be blank"
    problem = text_problem(value)
    if problem:
        return problem
    if not any(ch.isalpha() for ch in value):
        return "must contain letters"
    return None


class Name(ma.validate.Validator):
    """marshmallow validator applying :func:`name_problem`."""

    def __call__(self, value):
        problem = name_problem(value)
        if problem:
            raise ma.ValidationError(problem)
        return value


# -- free text: reasons and notes ----------------------------------------------------------

def personal_id_problem(value):
    """Why a reason or note may not be stored, or None: it holds what looks like a
    national ID (13 digits, separators allowed) or a G-Code."""
    if _ID_RUN.search(value) or _G_CODE.search(value):
        return ("must not contain a national ID or G-Code (13 digits): "
                "describe the learner without their ID number")
    return None


class FreeText(ma.validate.Validator):
    """marshmallow validator for reasons and notes: no control characters but
    line breaks, no personal ID (:func:`personal_id_problem`)."""

    def __call__(self, value):
        if _CONTROL.search(value.replace("\n", "").replace("\r", "").replace("\t", "")):
            raise ma.ValidationError("must not contain control characters")
        problem = personal_id_problem(value)
        if problem:
            raise ma.ValidationError(problem)
        return value


# -- spreadsheets -----------------------------------------------------------------------------

def spreadsheet_cell(value):
    """A value as a CSV or XLSX writer may emit it: text that a spreadsheet
    program would read as a formula gets a leading ``'``; anything else (numbers,
    dates, None, text that is only a number) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def spreadsheet_row(values):
    """:func:`spreadsheet_cell` of every value of a row."""
    return [spreadsheet_cell(v) for v in values]
