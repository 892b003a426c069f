"""Learners in bulk: a batch of imported rows, and the carry-over of round 1
into round 2. A batch of a file is copied into a staging table and validated
there (``services.enrollment.staging``); one statement inserts its valid rows
(``ON CONFLICT DO NOTHING`` on the one-active-record-per-person index), one
statement queues its events, one audit row records it.

Bulk changes announce their learners in ``learners_added`` events of at most
``LEARNERS_PER_EVENT`` learners each (a consumer applies a thousand learners in
one transaction instead of a thousand); single changes keep ``learner_added``."""
import uuid

from sqlalchemy import Text, any_, bindparam, cast, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.errors import LecError, conflict, not_found
from services.common.context import require_actor
from services.common.copytext import CopyText
from services.common.db import array_literal
from services.common.validation import load
from services.enrollment import domain, staging
from services.enrollment.duplicates import Holder, provinces, refuse
from services.enrollment.handlers import check_edit, edit_context
from services.enrollment.models import learners
from services.enrollment.schemas import LearnerCreate
from services.enrollment.sealing import lock_for_edit, seal_state

IMPORT_COLUMNS = staging.STAGE_COLUMNS  # a file's columns, as the stage holds them
COMPARED = ("id_kind", "prefix", "first_name", "last_name", "sex", "birth_date", "nationality", "grade")
RETURNED = "id, id_number, version, grade, sex, id_kind, birth_date, status, removal_reason"
LEARNERS_PER_EVENT = 1000

# the batch's valid rows (services.enrollment.staging.CANDIDATES): the first naming each learner
# inserted; back come the learners added, then the valid rows not added (repeats of an earlier
# row, and learners already active in the round), with the values to settle them by
_INSERT_BATCH = text(f"""
    WITH {staging.CANDIDATES},
    added AS (
        INSERT INTO learners (round_id, institution_id, institution_path, source, created_by, updated_by,
                              id_kind, id_number, prefix, first_name, last_name, sex, birth_date,
                              nationality, grade, import_row, import_id)
        SELECT :round_id, :institution_id, :institution_path, 'import', :user_id, :user_id,
               r.id_kind, r.id_number, r.prefix, r.first_name, r.last_name, r.sex, r.birth_date,
               r.nationality, r.grade, r.row, CAST(:import_id AS uuid)
        FROM ranked r WHERE r.row = r.first_row ORDER BY r.id_number
        ON CONFLICT (round_id, id_number) WHERE status = 'active' DO NOTHING
        RETURNING {RETURNED}, import_row
    )
    SELECT a.id, a.version, a.status, a.removal_reason, a.import_row AS row, a.import_row AS first_row,
           a.id_kind, a.id_number, NULL AS prefix, NULL AS first_name, NULL AS last_name, a.sex,
           a.birth_date, NULL AS nationality, a.grade
    FROM added a
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, r.row, r.first_row, r.id_kind, r.id_number, r.prefix, r.first_name,
           r.last_name, r.sex, r.birth_date, r.nationality, r.grade
    FROM ranked r WHERE NOT EXISTS (SELECT 1 FROM added a WHERE a.import_row = r.row)
""")


def import_key(value):
    """The ``import_id`` of a batch: a UUID in canonical form, or None."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise LecError("validation_error", "import_id is not a UUID",
                       {"errors": {"import_id": ["not a UUID"]}}) from None


def rejection(row_number, exc):
    message = exc.description
    errors = exc.extra.get("errors") if exc.code == "validation_error" else None
    if errors:
        message = "; ".join(f"{field}: {' '.join(str(m) for m in msgs)}"
                            for field, msgs in errors.items())
    entry = {"row": row_number, "code": exc.code, "message": message}
    entry.update({k: exc.extra[k] for k in ("held_by", "held_in", "retry_after") if k in exc.extra})
    return entry


def _active_holders(session, round_id, id_numbers):
    """id number -> the active record holding it in the round."""
    if not id_numbers:
        return {}
    rows = session.execute(select(learners).where(
        learners.c.round_id == round_id, learners.c.status == "active",
        learners.c.id_number == any_(cast(bindparam("numbers", array_literal(id_numbers), type_=Text),
                                          ARRAY(Text)))))
    return {r.id_number: r for r in rows}


def _same(record, clean):
    return all(record._mapping[k] == clean[k] for k in COMPARED)


# -- validating a batch ----------------------------------------------------------------------
#
# Most rows of a real file are plainly valid. The batch goes into the stage
# (services.enrollment.staging) in one COPY; the rule of a plainly valid row
# keeps those there, and every other row (the "suspects") goes through
# :func:`check_row`, the schema and ``domain.check_learner``, so that a
# rejection's code and message are always theirs. ``fast=False`` judges every
# row by the full rules: the reference the staged path is held to
# (tests/services/test_enrollment_import_staged.py and
# tests/services/test_enrollment_import_fast.py compare both).

def check_row(schema, columns, values, unit, round_):
    """One row through the full rules (the schema, then ``domain.check_learner``):
    its clean values, or the ``LecError`` of the first rule it breaks."""
    raw = {c: (v if v not in ("", None) else None) for c, v in zip(columns, values)}
    clean, _ = domain.check_learner(load(schema, raw), unit.type, round_)
    return clean


def _row_number(value):
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LecError("validation_error", "a row number is not a number",
                       {"errors": {"rows": [f"row number {str(value)[:20]!r}"]}}) from None


class Batch:
    """A batch being validated: what the full rules accepted (``good``: ``(row, clean)``)
    and refused (``rejected``), how many rows it held, its first and last row numbers."""

    def __init__(self):
        self.good, self.rejected = [], []
        self.rows, self.first, self.last = 0, None, None

    def count(self, rows, first, last):
        self.rows += rows
        if first is not None:
            self.first = first if self.first is None else min(self.first, first)
            self.last = last if self.last is None else max(self.last, last)

    def judge(self, columns, rows, unit, round_):
        """Put rows (``[row, value, ...]`` in ``columns`` order) through the full rules."""
        schema = LearnerCreate()
        for entry in rows:
            number = _row_number(entry[0])
            try:
                self.good.append((number, check_row(schema, columns, entry[1:], unit, round_)))
            except LecError as exc:
                self.rejected.append(rejection(number, exc))


def stage_batch(uow, columns, rows, data, unit, round_, fast=True):
    """Validate a batch: the rows of ``data`` (COPY text, :mod:`services.common.copytext`)
    and ``rows`` go into the stage unless ``fast`` is false (or a column is named twice);
    the plainly valid stay there, every other row is judged by the full rules."""
    batch = Batch()
    staged = fast and len(set(columns)) == len(columns)
    if data and not staged:
        raise LecError("validation_error", "a column is named twice",
                       {"errors": {"columns": ["each column once"]}})
    own = rows
    if staged:
        lines, own = CopyText(len(columns)), []
        for entry in rows:
            if not lines.add(_row_number(entry[0]), entry[1:]):
                own.append(entry)
        data = (data or "") + lines.text()
    staging.copy_in(uow, columns, data if staged else "")
    if staged and data:
        count, first, last, suspects = staging.take_suspects(uow, staging.Rules(unit, round_))
        batch.count(count, first, last)
        picks = [1 + IMPORT_COLUMNS.index(c) for c in columns]
        batch.judge(columns, [[s[0], *(s[i] for i in picks)] for s in suspects], unit, round_)
    numbers = [_row_number(entry[0]) for entry in own]
    batch.count(len(own), min(numbers, default=None), max(numbers, default=None))
    batch.judge(columns, own, unit, round_)
    return batch


def check(uow, ports, round_id, institution_id):
    """May the caller import into the institution now? (Asked before reading a file.)"""
    unit, round_, window = edit_context(ports, round_id, institution_id)
    check_edit(uow.actor, unit, window)
    if seal_state(uow, round_.id, [unit.id])[str(unit.id)]["sealed"]:
        raise LecError("unit_confirmed", "the institution's data are confirmed for this round")
    return {"round_id": round_.id, "institution": unit.ref(), "open": True}


def import_rows(uow, ports, round_id, institution_id, columns, rows, import_id=None, *, data=None,
                fast=True):
    """Validate a batch of rows, insert the valid new learners, report the rest.

    ``rows`` are ``[row_number, value, ...]`` in ``columns`` order, and ``data``
    more rows as COPY text (:mod:`services.common.copytext`), as the gateway
    sends a file. A row whose learner is already active here with the same
    details is ``unchanged`` (so importing a file twice adds nothing); one
    active elsewhere, or here with other details, is ``duplicate_learner``, and
    so is a learner that an earlier row of the same import (``import_id``,
    shared by the batches of one file) added: the rejection names that row.
    What a refusal says of another institution holding the learner, and how
    many such refusals an account is told about, follow
    ``services.enrollment.duplicates``. ``fast=False`` validates every row by
    the full rules (:func:`stage_batch`).
    """
    import_id = import_key(import_id)
    unit, round_, window = edit_context(ports, round_id, institution_id)
    check_edit(uow.actor, unit, window)
    actor = require_actor(uow.actor)
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown:
        raise LecError("validation_error", "unknown import columns",
                       {"errors": {"columns": [f"unknown: {', '.join(unknown)}"]}})
    round_id = round_.id
    lock_for_edit(uow, round_id, unit)
    batch = stage_batch(uow, list(columns), rows or [], data, unit, round_, fast)
    rejected = batch.rejected

    # every valid row is tried, the first naming each learner (the later ones are repeats):
    # the insert skips learners already active in the round (the index of one active record
    # per person), and only those are looked up (below), so a file of new learners costs no
    # look-up. In ID order, so that concurrent imports wait on each other without deadlock.
    good = batch.good
    params = {c: array_literal([clean[c] for _, clean in good])
              for c in ("id_kind", "id_number", "prefix", "first_name", "last_name", "sex",
                        "birth_date", "nationality", "grade")}
    result = uow.execute(_INSERT_BATCH, dict(
        params, row=array_literal([row_number for row_number, _ in good]), import_id=import_id,
        round_id=round_id, institution_id=unit.id, institution_path=unit.path,
        user_id=actor.user_id or None)).all()
    inserted, held = [], {}
    for r in result:
        if r.id is not None:
            inserted.append(r)
        elif r.row != r.first_row:
            rejected.append(_repeated(r.row, r.first_row, unit))
        else:
            held[r.id_number] = (r.row, r._mapping)
    # held already (here, elsewhere, by an earlier row of this file) or by a concurrent change
    refused = []
    unchanged = _settle(uow.session, round_id, unit, held, rejected, import_id, refused)
    rejected += _refused_rows(uow, ports, unit, round_id, refused)
    if inserted:
        emit_learners_added(uow, round_id, unit, round_.census_date, inserted)
        uow.audit("import", "learners", None, {
            "round_id": round_id, "institution_id": unit.id, "rows": batch.rows,
            "accepted": len(inserted), "first_row": batch.first, "last_row": batch.last,
            "learner_ids": sorted(r.id for r in inserted)})
    uow.commit()
    rejected.sort(key=lambda r: r["row"])
    return {"accepted": len(inserted), "unchanged": unchanged, "rejected": rejected,
            "rows": batch.rows}


def emit_learners_added(uow, round_id, unit, census_date, rows):
    """Queue ``learners_added`` events for learners one bulk change added to an
    institution: in id order, at most ``LEARNERS_PER_EVENT`` to an event, each
    learner exactly as ``learner_added`` carries it."""
    facts = domain.Learner.facts(sorted(rows, key=lambda r: r.id), unit, census_date)
    institution = unit.ref()
    return uow.emit_many("learners_added", [
        {"round_id": round_id, "institution": institution, "learners": facts[i:i + LEARNERS_PER_EVENT]}
        for i in range(0, len(facts), LEARNERS_PER_EVENT)])


def _repeated(row_number, first_row, unit):
    """A row whose learner an earlier row of the same file already names."""
    return {"row": row_number, "code": "duplicate_learner", "held_by": unit.id,
            "message": f"the same learner is on row {first_row} of this file"}


def _settle(session, round_id, unit, good, rejected, import_id=None, refused=None):
    """Take out of ``good`` the rows whose learner is already active in the round;
    those to refuse are added to ``refused`` as ``(row, Holder)``."""
    unchanged = 0
    for number, record in _active_holders(session, round_id, good.keys()).items():
        row_number, clean = good.pop(number)
        here = record.institution_id == unit.id
        if here and import_id is not None and record.import_id == import_id \
                and record.import_row != row_number:
            # another row of this very file, in an earlier batch (a batch sent
            # again after a lost reply finds its own rows: those are unchanged)
            rejected.append(_repeated(row_number, record.import_row, unit))
            continue
        if here and _same(record, clean):
            unchanged += 1
            continue
        refused.append((row_number, Holder(record.id, record.institution_id, record.institution_path)))
    return unchanged


def _refused_rows(uow, ports, unit, round_id, refused):
    """The rejections of rows whose learner another record holds (audited, and
    counted against the account's allowance when held elsewhere)."""
    entries = []
    refused = sorted(refused, key=lambda r: r[0])  # the allowance goes to the first rows of the file
    for (row_number, holder), answer in zip(refused, refuse(uow, ports, unit, round_id, refused, "import")):
        entry = {"row": row_number, **answer}
        if holder.institution_id == unit.id:
            entry["message"] = ("already recorded at this institution with other details; "
                                "edit the learner instead")
        entries.append(entry)
    return entries


# -- carry-over -----------------------------------------------------------------------------

def _named(row, entry):
    """A skipped or previewed round-1 learner with what the officer recognises them by."""
    return dict(entry, learner_id=row.id, prefix=row.prefix, first_name=row.first_name,
                last_name=row.last_name, grade=row.grade)


def source_learners(uow, unit, previous):
    """The institution's active learners of ``previous`` in id order (what a
    carry-over or a promotion to the new school year starts from)."""
    return uow.execute(select(learners).where(
        learners.c.round_id == previous.id, learners.c.institution_id == unit.id,
        learners.c.status == "active").order_by(learners.c.id)).all()


def _carry_over_candidates(uow, unit, round_, previous):
    """The institution's active learners of ``previous`` split by this round's rules:
    ``(source rows, [(row, skip entry)] outside the rules, eligible rows)``."""
    census, cdc_age = round_.census_date, domain.cdc_age_of(round_)
    source = source_learners(uow, unit, previous)
    refused, eligible = [], []
    for row in source:
        try:
            domain.check_grade(row.grade, unit.type)
            domain.check_age(row.birth_date, unit.type, census, cdc_age)
        except LecError as exc:
            refused.append((row, _skip(exc)))
            continue
        eligible.append(row)
    return source, refused, eligible


def carry_over(uow, ports, round_id, institution_id, dry_run=False):
    """Copy the institution's active round-1 learners into round 2 (:func:`_carry_over`);
    ``dry_run`` previews it (:func:`_carry_over_preview`)."""
    unit, round_, window = edit_context(ports, round_id, institution_id)
    if round_.number != 2:
        raise conflict("carry-over copies the learners of round 1 into round 2")
    previous = ports.previous_round(round_)
    if previous is None:
        raise not_found(f"round 1 of academic year {round_.academic_year}")
    if dry_run:
        return _carry_over_preview(uow, ports, unit, round_, window, previous)
    return _carry_over(uow, ports, unit, round_, window, previous)


def _carry_over_preview(uow, ports, unit, round_, window, previous):
    """What :func:`_carry_over` would do now, without writing anything (not even
    the audit of refusals): the same answer, with ``dry_run: true`` and the
    learners it would copy in ``learners``."""
    check_edit(uow.actor, unit, window)
    actor = require_actor(uow.actor)
    round_id = round_.id
    session = uow.session
    if seal_state(uow, round_id, [unit.id])[str(unit.id)]["sealed"]:
        raise LecError("unit_confirmed", "the institution's data are confirmed for this round")
    _, refused, eligible = _carry_over_candidates(uow, unit, round_, previous)
    skipped = [_named(row, entry) for row, entry in refused]
    holders = _active_holders(session, round_id, {r.id_number for r in eligible})
    elsewhere = [Holder(h.id, h.institution_id, h.institution_path) for h in holders.values()
                 if h.institution_id != unit.id]
    places = provinces(uow, ports, unit, elsewhere)
    copied, unchanged = [], 0
    for row in eligible:
        holder = holders.get(row.id_number)
        if holder is None:
            copied.append(_named(row, {}))
        elif holder.institution_id == unit.id:
            unchanged += 1
        else:
            extra = domain.holder_extra(actor, unit, holder.institution_id, holder.institution_path, places)
            skipped.append(_named(row, {"code": "duplicate_learner",
                                        "message": domain.duplicate_message(extra, unit.id), **extra}))
    return {"from_round_id": previous.id, "copied": len(copied), "unchanged": unchanged,
            "skipped": sorted(skipped, key=lambda s: s["learner_id"]), "dry_run": True,
            "learners": copied}


def _carry_over(uow, ports, unit, round_, window, previous):
    """Copy the institution's active round-1 learners into round 2 in one action
    (grades unchanged, removed ones left out). Learners already active in round 2
    are left alone; the round's rules (CDC age at its census date) still apply.
    Learners another institution holds in round 2 are skipped (audited, described
    as ``services.enrollment.duplicates`` says, not counted as probing: the
    institution did not choose them). :func:`carry_over_preview` answers the
    same without writing."""
    check_edit(uow.actor, unit, window)
    actor = require_actor(uow.actor)
    round_id = round_.id
    lock_for_edit(uow, round_id, unit)
    census = round_.census_date
    source, refused, rows = _carry_over_candidates(uow, unit, round_, previous)
    skipped = [{"learner_id": row.id, **entry} for row, entry in refused]
    eligible = [row.id for row in rows]
    inserted = []
    if eligible:
        copied = ("institution_id", "institution_path", "id_kind", "id_number", "prefix", "first_name",
                  "last_name", "sex", "birth_date", "nationality", "grade")
        stmt = pg_insert(learners).from_select(
            ["round_id", *copied, "source", "carried_from", "created_by", "updated_by"],
            select(literal(round_id), *[learners.c[c] for c in copied], literal("carry_over"),
                   learners.c.id, literal(actor.user_id or None), literal(actor.user_id or None))
            .where(learners.c.id.in_(eligible)).order_by(learners.c.id))
        inserted = uow.execute(stmt.on_conflict_do_nothing(
            index_elements=[learners.c.round_id, learners.c.id_number],
            index_where=learners.c.status == "active").returning(*learners.c)).all()
    done = {r.carried_from for r in inserted}
    by_source = {r.id: r for r in source}
    left = {by_source[i].id_number: by_source[i] for i in eligible if i not in done}
    unchanged, held = 0, []
    for number, holder in _active_holders(uow.session, round_id, left.keys()).items():
        if holder.institution_id == unit.id:
            unchanged += 1
        else:
            held.append((left[number].id, Holder(holder.id, holder.institution_id, holder.institution_path)))
    answers = refuse(uow, ports, unit, round_id, [(None, h) for _, h in held], "carry_over",
                     counted=False)
    skipped += [{"learner_id": learner_id, **answer} for (learner_id, _), answer in zip(held, answers)]
    if inserted:
        emit_learners_added(uow, round_id, unit, census, inserted)
    uow.audit("carry_over", "learners", None, {
        "round_id": round_id, "from_round_id": previous.id, "institution_id": unit.id,
        "copied": len(inserted), "unchanged": unchanged, "skipped": len(skipped),
        "learner_ids": sorted(r.id for r in inserted)})
    uow.commit()
    return {"from_round_id": previous.id, "copied": len(inserted), "unchanged": unchanged,
            "skipped": sorted(skipped, key=lambda s: s["learner_id"]), "dry_run": False}


def _skip(exc):
    entry = rejection(0, exc)
    del entry["row"]
    return entry

