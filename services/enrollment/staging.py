"""The import's staging table: a batch's rows reach PostgreSQL as text in one
``COPY``, the plainly valid ones are recognised there by set-based rules, and
the valid rows go into ``learners`` by one ``INSERT … SELECT``.

``import_stage`` is a temporary table of the connection (created on its first
import, emptied at every commit or rollback). Its cells are the file's text.
:data:`PLAIN` is the rule of a plainly valid row, one SQL expression over the
whole batch: a national ID of 13 digits with its check digit (mod 11), or a
G-Code of a known province; names and short texts in the patterns below; a sex,
a grade of the institution's type, an ISO birth date that exists and lies
in the range the round's ages allow. It only ever accepts a subset of what
the full rules accept (the patterns are those of names without digits, control
characters or formula starts). Every other row, the "suspects", is taken out of
the stage and judged by the full rules in Python (``imports.check_row``), so
that a rejection's code and message are always theirs.
tests/services/test_enrollment_import_staged.py holds the rule to the full
rules row by row, on every kind of bad row and thousands of random mutations.
"""
import bisect
import datetime as dt
import functools
import io

import psycopg2
import psycopg2.extensions
from sqlalchemy import text

from services.common.errors import LecError
from services.enrollment import domain

STAGE_COLUMNS = ("national_id", "g_code", "prefix", "first_name", "last_name", "sex", "birth_date",
                 "grade", "nationality")

_CREATE = ("CREATE TEMPORARY TABLE IF NOT EXISTS import_stage (row integer NOT NULL, "
           + ", ".join(f"{c} text" for c in STAGE_COLUMNS) + ") ON COMMIT DELETE ROWS")

_THAI_LETTERS = "\u0e01-\u0e30\u0e32\u0e33\u0e40-\u0e46"  # str.isalpha() in the Thai block
_THAI_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"  # vowel and tone marks (no digits)
_LETTER = f"A-Za-z{_THAI_LETTERS}"
_BODY = f"{_LETTER}{_THAI_MARKS} .'()"
# a letter first (not blank, not a formula, holds a letter), then no digit (no ID
# number), no control character; the length apart (a bounded repetition makes PostgreSQL's
# automaton many times slower)
NAME_PATTERN = f"^[{_LETTER}][{_BODY}]*$"
NAME_MAX, SHORT_MAX = 100, 50
DATE_PATTERN = "^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_WEIGHTS = range(13, 1, -1)
# the weighted sum of the first twelve digits (ascii() never fails, whatever the text)
_NID_SUM = " + ".join(f"{w} * (ascii(substr(s.national_id, {i}, 1)) - 48)"
                      for i, w in enumerate(_WEIGHTS, start=1))


def _short(column, longest):
    return (f"(s.{column} IS NULL OR s.{column} = '' "
            f"OR (char_length(s.{column}) <= {longest} AND s.{column} ~ CAST(:name_pattern AS text)))")


PLAIN = f"""(
    CASE WHEN s.national_id IS NULL OR s.national_id = ''
         THEN char_length(s.g_code) = 13 AND s.g_code ~ '^G[0-9]*$'
              AND substr(s.g_code, 4, 2) = ANY(CAST(:provinces AS text[]))
         ELSE (s.g_code IS NULL OR s.g_code = '') AND char_length(s.national_id) = 13
              AND s.national_id ~ '^[1-8][0-9]*$'
              AND (11 - ({_NID_SUM}) % 11) % 10 = ascii(substr(s.national_id, 13, 1)) - 48
    END
    AND char_length(s.first_name) <= {NAME_MAX} AND s.first_name ~ CAST(:name_pattern AS text)
    AND char_length(s.last_name) <= {NAME_MAX} AND s.last_name ~ CAST(:name_pattern AS text)
    AND {_short("prefix", SHORT_MAX)} AND {_short("nationality", SHORT_MAX)}
    AND s.sex = ANY(CAST(:sexes AS text[])) AND s.grade = ANY(CAST(:grades AS text[]))
    AND CASE WHEN s.birth_date ~ '{DATE_PATTERN}'
                  AND s.birth_date BETWEEN CAST(:born_from AS text) AND CAST(:born_to AS text)
             THEN to_char(CAST(substr(s.birth_date, 1, 8) || '01' AS date)
                          + (CAST(substr(s.birth_date, 9, 2) AS integer) - 1), 'YYYY-MM-DD') = s.birth_date
             ELSE false
    END)"""

# the suspects leave the stage (and come back to be judged); the last row counts the batch
_TAKE_SUSPECTS = text(f"""
    WITH suspect AS (DELETE FROM import_stage s WHERE {PLAIN} IS NOT TRUE RETURNING s.*)
    SELECT false AS total, row, {", ".join(STAGE_COLUMNS)}, NULL AS first_row, NULL AS last_row
    FROM suspect
    UNION ALL
    SELECT true, count(*), {", ".join("NULL" for _ in STAGE_COLUMNS)}, min(row), max(row)
    FROM import_stage
""")

# the valid rows of a batch in the clean form the full rules give: the stage's plain rows, and
# the suspects the full rules accepted (as arrays); each with the first row naming its learner
CANDIDATES = """
    candidate AS (
        SELECT s.row,
               CASE WHEN s.national_id IS NULL OR s.national_id = '' THEN 'g_code' ELSE 'national_id' END
                   AS id_kind,
               COALESCE(NULLIF(s.national_id, ''), s.g_code) AS id_number,
               NULLIF(s.prefix, '') AS prefix, s.first_name, s.last_name, s.sex,
               CAST(s.birth_date AS date) AS birth_date, NULLIF(s.nationality, '') AS nationality, s.grade
        FROM import_stage s
        UNION ALL
        SELECT * FROM unnest(CAST(:row AS integer[]), CAST(:id_kind AS text[]), CAST(:id_number AS text[]),
                             CAST(:prefix AS text[]), CAST(:first_name AS text[]), CAST(:last_name AS text[]),
                             CAST(:sex AS text[]), CAST(:birth_date AS date[]), CAST(:nationality AS text[]),
                             CAST(:grade AS text[]))
    ),
    ranked AS (
        SELECT c.*, min(c.row) OVER (PARTITION BY c.id_number) AS first_row FROM candidate c
    )"""
CANDIDATE_FIELDS = ("row", "id_kind", "id_number", "prefix", "first_name", "last_name", "sex", "birth_date",
                    "nationality", "grade")


class Rules:
    """The parameters of :data:`PLAIN` for one institution in one round."""

    def __init__(self, unit, round_):
        born_from, born_to = birth_range(unit.type, round_.census_date, _frozen(domain.cdc_age_of(round_)))
        self.params = {
            "provinces": _array(f"{code:02d}" for code in sorted(domain.PROVINCE_CODES)),
            "name_pattern": NAME_PATTERN,
            "sexes": _array(domain.SEXES), "grades": _array(domain.grades_for(unit.type)),
            # no date passes an empty range
            "born_from": born_from.isoformat() if born_from else "9",
            "born_to": born_to.isoformat() if born_to else "0",
        }


def _frozen(mapping):
    return tuple(sorted(mapping.items()))


@functools.lru_cache(maxsize=256)
def birth_range(unit_type, census_date, cdc_age):
    """``(first, last)`` birth dates the age rules accept at the census date
    (``domain.check_age`` is the judge; the dates it accepts are one run, since
    an age only grows as the birth date moves back), or ``(None, None)``."""
    cdc_age = dict(cdc_age)
    start = census_date.toordinal() - 366 * 120

    def accepted(ordinal):
        try:
            domain.check_age(dt.date.fromordinal(ordinal), unit_type, census_date, cdc_age)
        except LecError:
            return False
        return True

    days = range(start, census_date.toordinal() + 1)
    inside = next((d for d in range(census_date.toordinal(), start, -30) if accepted(d)), None)
    if inside is None:
        return None, None
    # before ``inside`` the accepted dates come last; after it, first
    first = bisect.bisect_left(days, True, hi=inside - start, key=accepted) + start
    last = bisect.bisect_left(days, True, lo=inside - start, key=lambda d: not accepted(d)) + start - 1
    return dt.date.fromordinal(first), dt.date.fromordinal(last)


def _array(values):
    return "{" + ",".join(f'"{v}"' for v in values) + "}"


def copy_in(uow, columns, data):
    """Copy a batch's lines (row number, then ``columns``) into the connection's stage."""
    with uow.session.connection().connection.cursor() as cursor:
        cursor.execute(_CREATE)  # a new connection's first import (or one rolled back) creates it
        if not data:
            return
        # psycopg2 copies only without a wait callback (the one psycogreen sets under eventlet):
        # the copy runs without it, blocking this process for its milliseconds. Nothing between
        # taking it away and putting it back yields, so no other green thread runs meanwhile.
        wait = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
        try:
            cursor.copy_expert(f"COPY import_stage (row, {', '.join(columns)}) FROM STDIN (FORMAT csv)",
                               io.StringIO(data))
        except psycopg2.DataError as exc:
            raise LecError("validation_error", "a batch's rows cannot be read",
                           {"errors": {"data": [str(exc).splitlines()[0]]}}) from None
        finally:
            psycopg2.extensions.set_wait_callback(wait)


def take_suspects(uow, rules):
    """Take the rows that are not plainly valid out of the stage: ``(rows in the
    stage at first, first row number, last row number, suspects)``, each suspect
    ``[row, value, ...]`` in :data:`STAGE_COLUMNS` order."""
    suspects, total = [], (0, None, None)
    for r in uow.execute(_TAKE_SUSPECTS, rules.params):
        if r.total:
            total = (r.row, r.first_row, r.last_row)
        else:
            suspects.append(list(r[1:2 + len(STAGE_COLUMNS)]))
    return (*total, suspects)
