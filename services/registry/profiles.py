"""Institution profiles, the self-established CDC survey, its documents and the
printable survey form (registry use cases; the fields are in
``services.registry.profile_schemas``).

- A profile is edited by a user of the institution or of a unit above it (its
  LAO, province, department): ``update_unit`` merges the part given, validates
  the whole and stores it on the unit, audited with the values before and after,
  and announced by ``unit_changed`` (which carries the profile).
- A CDC that an LAO set up itself is recorded with the survey's fields and
  documents; it starts ``pending``. A province or department user above it
  verifies it (``verify_unit``) or rejects it with a reason (``rejected``); the
  LAO corrects it (PATCH, documents) and resubmits it (``pending`` again).
- Downstream services know the statuses pending, active and closed: in the
  ``unit_changed`` event a rejected unit travels as ``pending`` (not verified)
  with its ``rejection_reason``.
"""
import datetime as dt

from sqlalchemy import and_, func, select, update

from services.common import hierarchy
from services.common.context import require_actor
from services.common.errors import LecError, conflict, forbidden, not_found, validation_error
from services.common.jsonutil import BANGKOK, plain
from services.common.validation import as_id, load
from services.registry import documents
from services.registry.models import org_units
from services.registry.profile_schemas import (
    DOCUMENT_KINDS, Profile, UnitRejection, Survey, UnitUpdate,
)

PROFILE_TYPES = ("school", "cdc")
SURVEY_OPEN = ("pending", "rejected")


def readable_unit(uow, unit_id, lock=False, what="org unit"):
    """The unit, locked when asked, if the acting user may read it; outside its
    subtree (or for an id that is none) it does not exist."""
    try:
        unit_id = as_id(unit_id)
    except LecError:
        raise not_found(what)
    stmt = select(org_units).where(org_units.c.id == unit_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.execute(stmt).first()
    if row is None:
        raise not_found(what)
    require_actor(uow.actor).require_read(row.path, what)
    return row


# -- the profile -------------------------------------------------------------------

def _merge(current, patch):
    """``patch`` over ``current``: objects merge one level deep, null clears."""
    merged = dict(current or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            inner = {**merged[key], **value}
            merged[key] = {k: v for k, v in inner.items() if v is not None}
        else:
            merged[key] = value
    return merged


def valid_profile(unit_type, profile, field="profile"):
    """The profile as stored (plain JSON), or validation_error."""
    if unit_type not in PROFILE_TYPES:
        raise validation_error({field: ["only schools and CDCs have a profile"]})
    loaded = load(Profile(), profile)
    if "buildings" in loaded and unit_type != "cdc":
        raise validation_error({field: {"buildings": ["only CDCs record their buildings here"]}})
    for key in ("address", "contact", "buildings"):
        if key in loaded and not loaded[key]:
            loaded.pop(key)
    return plain(loaded)


def valid_survey(unit_type, survey):
    if unit_type != "cdc":
        raise validation_error({"survey": ["only a CDC is surveyed"]})
    return plain(load(Survey(), survey))


def _nested_errors(field, exc):
    if exc.code == "validation_error":
        raise validation_error({field: exc.extra.get("errors") or {}})
    raise exc


def for_create(unit_type, data):
    """The ``profile`` and ``survey`` columns of a unit being created."""
    values = {}
    if data.get("profile") is not None:
        try:
            values["profile"] = valid_profile(unit_type, data["profile"])
        except LecError as exc:
            _nested_errors("profile", exc)
    if data.get("survey") is not None:
        try:
            values["survey"] = valid_survey(unit_type, data["survey"])
        except LecError as exc:
            _nested_errors("survey", exc)
    return values


def unit_detail(row):
    """A unit as the API shows it (``GET /org-units/{id}``, the children and descendants
    lists): with its profile, survey and when it was rejected."""
    from services.registry.handlers import unit_dict
    unit = unit_dict(row)
    unit["profile"] = plain(row.profile or {})
    unit["survey"] = plain(row.survey) if row.survey is not None else None
    unit["rejected_at"] = plain(row.rejected_at)
    return unit


def unit_view(uow, row):
    return unit_detail(row)


def _version(data, if_match):
    if data.get("version") is not None:
        return data["version"]
    if if_match not in (None, "", "*"):
        try:
            return int(str(if_match).strip().strip('W/').strip('"'))
        except ValueError:
            raise validation_error({"If-Match": ["the unit's version, as \"3\""]})
    return None


def update_unit(uow, unit_id, data, if_match=None):
    """PATCH a unit: its name, part of its profile, part of its survey (a CDC pending
    or rejected). A user of the unit or of a unit above it."""
    from services.registry.handlers import _emit_unit
    require_actor(uow.actor)
    data = load(UnitUpdate(), data)
    row = readable_unit(uow, unit_id, lock=True)
    expected = _version(data, if_match)
    if expected is not None and expected != row.version:
        raise conflict(f"the unit changed meanwhile (version {row.version}, not {expected}): "
                       "read it again", version=row.version)
    if row.status == "closed":
        raise conflict("the unit is closed")
    values, before, after = {}, {}, {}
    if "name" in data and data["name"] != row.name:
        before["name"] = row.name
        values["name"] = after["name"] = data["name"]
    if "profile" in data:
        try:
            profile = valid_profile(row.type, _merge(row.profile, data["profile"]))
        except LecError as exc:
            _nested_errors("profile", exc)
        if profile != (row.profile or {}):
            values["profile"] = profile
            before["profile"], after["profile"] = plain(row.profile or {}), profile
    if "survey" in data:
        if row.type != "cdc":
            raise validation_error({"survey": ["only a CDC is surveyed"]})
        if row.status not in SURVEY_OPEN:
            raise conflict(f"the survey is corrected while the CDC is pending or rejected, "
                           f"not {row.status}")
        try:
            survey = valid_survey(row.type, _merge(row.survey, data["survey"]))
        except LecError as exc:
            _nested_errors("survey", exc)
        if survey != row.survey:
            values["survey"] = survey
            before["survey"], after["survey"] = plain(row.survey), survey
    if values:
        uow.execute(update(org_units).where(org_units.c.id == row.id).values(
            **values, updated_at=func.now(), version=org_units.c.version + 1))
        row = uow.execute(select(org_units).where(org_units.c.id == row.id)).first()
        uow.audit("update", "org_unit", row.id, {"code": row.code, "before": before, "after": after})
        _emit_unit(uow, "updated", row)
    view = unit_view(uow, row)
    uow.commit()
    return view


def get_unit(uow, unit_id):
    return unit_view(uow, readable_unit(uow, unit_id))


# -- review: reject, resubmit -----------------------------------------------------------

def reject_unit(uow, unit_id, data):
    from services.registry.handlers import _emit_unit
    actor = require_actor(uow.actor)
    data = load(UnitRejection(), data or {})
    row = readable_unit(uow, unit_id, lock=True)
    if not hierarchy.can_verify(actor.role, actor.path, row.path):
        raise forbidden("only a province or department user above the unit rejects it")
    if row.status != "pending":
        raise conflict(f"the unit is {row.status}, not pending")
    uow.execute(update(org_units).where(org_units.c.id == row.id).values(
        status="rejected", rejection_reason=data["reason"], rejected_at=func.now(),
        rejected_by=actor.user_id or None, updated_at=func.now(), version=org_units.c.version + 1))
    row = uow.execute(select(org_units).where(org_units.c.id == row.id)).first()
    uow.audit("reject", "org_unit", row.id, {"code": row.code, "reason": data["reason"]})
    _emit_unit(uow, "rejected", row)
    view = unit_view(uow, row)
    uow.commit()
    return view


def resubmit_unit(uow, unit_id):
    """A rejected unit, corrected, goes back to the province (pending): a user of a
    unit above it (its LAO)."""
    from services.registry.handlers import _emit_unit
    actor = require_actor(uow.actor)
    row = readable_unit(uow, unit_id, lock=True)
    if not hierarchy.is_strict_ancestor(actor.path, row.path):
        raise forbidden("the unit's LAO resubmits it")
    if row.status != "rejected":
        raise conflict(f"the unit is {row.status}, not rejected")
    reason = row.rejection_reason
    uow.execute(update(org_units).where(org_units.c.id == row.id).values(
        status="pending", rejection_reason=None, rejected_at=None, rejected_by=None,
        updated_at=func.now(), version=org_units.c.version + 1))
    row = uow.execute(select(org_units).where(org_units.c.id == row.id)).first()
    uow.audit("resubmit", "org_unit", row.id, {"code": row.code, "rejection_reason": reason})
    _emit_unit(uow, "resubmitted", row)
    view = unit_view(uow, row)
    uow.commit()
    return view


# -- documents -------------------------------------------------------------------------------

def add_document(uow, unit_id, meta, content_b64):
    """Store one establishment document of a unit (a user of the unit or above it)."""
    actor = require_actor(uow.actor)
    meta = meta if isinstance(meta, dict) else {}
    row = readable_unit(uow, unit_id, lock=True)
    if row.type not in PROFILE_TYPES:
        raise validation_error({"org_unit": ["documents belong to schools and CDCs"]})
    if row.status == "closed":
        raise conflict("the unit is closed")
    kind = meta.get("kind") or "establishment_order"
    if kind not in DOCUMENT_KINDS:
        raise validation_error({"kind": [f"one of {', '.join(DOCUMENT_KINDS)}"]})
    content_type = (meta.get("content_type") or "").split(";")[0].strip().lower()
    content = documents.decode(content_b64)
    documents.check_content(content_type, content)
    filename = documents.clean_filename(meta.get("filename"), content_type)
    docs = documents.store(uow)
    if docs.count(row.id) >= documents.max_per_unit():
        raise conflict(f"a unit keeps at most {documents.max_per_unit()} documents: delete one first")
    doc = docs.put(row.id, kind, filename, content_type, content, actor.user_id)
    uow.audit("add_document", "org_unit", row.id, {"code": row.code, "document_id": doc["id"],
                                                   "filename": filename, "kind": kind,
                                                   "size": doc["size"], "sha256": doc["sha256"]})
    uow.commit()
    return doc


def list_documents(uow, unit_id):
    row = readable_unit(uow, unit_id)
    items = documents.store(uow).list(row.id)
    return {"items": items, "total": len(items)}


def get_document(uow, unit_id, doc_id):
    """``{meta, content}`` (base64)."""
    import base64
    row = readable_unit(uow, unit_id)
    try:
        doc_id = as_id(doc_id, "doc_id")
    except LecError:
        raise not_found("document")
    meta, content = documents.store(uow).get(row.id, doc_id)
    return {"meta": meta, "content": base64.b64encode(content).decode("ascii")}


def delete_document(uow, unit_id, doc_id):
    require_actor(uow.actor)
    row = readable_unit(uow, unit_id, lock=True)
    try:
        doc_id = as_id(doc_id, "doc_id")
    except LecError:
        raise not_found("document")
    # a document that is not there is not found whatever the unit's state; the
    # refusal below rolls the deletion back with the unit of work
    meta = documents.store(uow).delete(row.id, doc_id)
    if row.status not in SURVEY_OPEN:
        raise conflict(f"documents are deleted while the unit is pending or rejected, not {row.status}")
    uow.audit("delete_document", "org_unit", row.id, {"code": row.code, "document_id": doc_id,
                                                      "filename": meta["filename"]})
    uow.commit()
    return meta


# -- contacts -----------------------------------------------------------------------------------

def profile_contacts(uow, unit_ids):
    """{unit id: the profile's contact officer {name, position, phone, email}} (those that have one)."""
    if not unit_ids:
        return {}
    rows = uow.execute(select(org_units.c.id, org_units.c.profile["contact"].label("contact"))
                           .where(org_units.c.id.in_(list(unit_ids)),
                                  org_units.c.profile.has_key("contact")))
    return {r.id: {k: (r.contact or {}).get(k) for k in ("name", "position", "phone", "email")}
            for r in rows if r.contact}


# -- the printable survey form ------------------------------------------------------------

THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
STATUS_TH = {"pending": "รอจังหวัดตรวจสอบ", "rejected": "ส่งกลับให้แก้ไข", "active": "ตรวจสอบแล้ว",
             "closed": "ปิดแล้ว"}
FUNDING_TH = {"lao_budget": "งบประมาณ อปท.", "subsidy": "เงินอุดหนุน", "donation": "เงินบริจาค",
              "other": "อื่น ๆ"}
CONDITION_TH = {"good": "ดี", "fair": "พอใช้", "poor": "ทรุดโทรม"}
TYPE_TH = {"department": "กรมส่งเสริมการปกครองท้องถิ่น", "province": "จังหวัด",
           "lao": "องค์กรปกครองส่วนท้องถิ่น", "cdc": "ศูนย์พัฒนาเด็กเล็ก"}
FORM_TITLE = "แบบกรอกข้อมูลศูนย์พัฒนาเด็กเล็กที่องค์กรปกครองส่วนท้องถิ่นจัดตั้งเอง (เพิ่มเติม)"
SIGNATURE = [
    "ลงชื่อ ...................................................... ผู้รายงาน",
    "(......................................................)",
    "ตำแหน่ง ......................................................",
    "วันที่ ........ เดือน ................................ พ.ศ. ..............",
]


def thai_date(value):
    """``2026-06-10`` -> ``10 มิถุนายน 2569`` (Buddhist era)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {THAI_MONTHS[value.month - 1]} {value.year + 543}"


def _col(key, label, type="text", group=None):
    return {"key": key, "label": label, "type": type, "group": group}


FORM_COLUMNS = [
    _col("no", "ที่", "int"), _col("code", "รหัส"), _col("name", "ชื่อศูนย์พัฒนาเด็กเล็ก"),
    _col("lao", "องค์กรปกครองส่วนท้องถิ่น"), _col("status", "สถานะ"),
    _col("address", "ที่ตั้ง", group="ที่ตั้ง"),
    _col("codes", "รหัสจังหวัด/อำเภอ/ตำบล", group="ที่ตั้ง"),
    _col("established_on", "วันที่จัดตั้ง", group="การจัดตั้ง"),
    _col("authorisation_ref", "เอกสารอนุมัติจัดตั้ง", group="การจัดตั้ง"),
    _col("established_by", "ผู้จัดตั้ง", group="การจัดตั้ง"),
    _col("funding_source", "แหล่งงบประมาณ", group="การจัดตั้ง"),
    _col("children_expected", "เด็กที่คาดว่าจะรับ (คน)", "int"),
    _col("capacity", "รับเด็กได้ (คน)", "int"),
    _col("buildings", "อาคาร (หลัง)", "int", group="อาคาร"),
    _col("condition", "สภาพ", group="อาคาร"),
    _col("year_built", "ปีที่สร้าง (พ.ศ.)", group="อาคาร"),
    _col("contact", "ผู้ประสานงาน", group="ผู้ประสานงาน"),
    _col("phone", "โทรศัพท์", group="ผู้ประสานงาน"),
    _col("email", "อีเมล", group="ผู้ประสานงาน"),
    _col("documents", "เอกสารแนบ (ฉบับ)", "int"),
]


def _form_row(i, unit, lao_name, docs):
    p, s = unit.profile or {}, unit.survey or {}
    addr, contact, b = p.get("address") or {}, p.get("contact") or {}, p.get("buildings") or {}
    codes = "/".join(addr.get(k) or "-" for k in ("province_code", "district_code", "subdistrict_code"))
    person = " ".join(x for x in (contact.get("name"), f"({contact['position']})"
                                  if contact.get("position") else None) if x)
    return [i, unit.code, unit.name, lao_name, STATUS_TH.get(unit.status, unit.status),
            " ".join(x for x in (addr.get("line"), addr.get("postcode")) if x), codes,
            thai_date(p.get("established_on")), p.get("authorisation_ref") or "",
            s.get("established_by") or "", FUNDING_TH.get(s.get("funding_source"), ""),
            s.get("children_expected"), p.get("capacity"), b.get("count"),
            CONDITION_TH.get(b.get("condition"), ""),
            str(b["year_built"] + 543) if b.get("year_built") else "",
            person, contact.get("phone") or "", contact.get("email") or "", docs]


def survey_form(uow, unit_id, today=None):
    """The CDC survey form as a report table (``gateway.render`` prints it):
    one CDC, or every surveyed CDC beneath an LAO, a province or the department."""
    from services.registry.models import unit_documents
    root = readable_unit(uow, unit_id)
    if root.type == "cdc":
        rows = [root]
    elif root.type in ("lao", "province", "department"):
        rows = uow.execute(select(org_units).where(and_(
            org_units.c.path.like(root.path + "%"), org_units.c.type == "cdc",
            org_units.c.survey.isnot(None), org_units.c.status != "closed"))
            .order_by(org_units.c.path)).all()
    else:
        raise validation_error({"org_unit": ["the survey form is of a CDC, an LAO, a province "
                                             "or the department"]})
    parents = {r.id: r.name for r in uow.execute(
        select(org_units.c.id, org_units.c.name).where(
            org_units.c.id.in_(sorted({r.parent_id for r in rows if r.parent_id}))))} if rows else {}
    counts = dict(uow.execute(
        select(unit_documents.c.org_unit_id, func.count()).where(
            unit_documents.c.org_unit_id.in_([r.id for r in rows]))
        .group_by(unit_documents.c.org_unit_id)).all()) if rows else {}
    cells = [_form_row(i, r, parents.get(r.parent_id, ""), counts.get(r.id, 0))
             for i, r in enumerate(rows, start=1)]
    total = ["รวม", "", f"{len(rows)} แห่ง"] + [""] * (len(FORM_COLUMNS) - 3)
    for j, c in enumerate(FORM_COLUMNS):
        if j and c["type"] == "int":
            total[j] = sum(r[j] or 0 for r in cells)
    today = today or dt.datetime.now(BANGKOK).date()
    return {
        # enclosure 1 of the department's CCIS letter (seed 000)
        "key": "cdc-survey", "enclosure": 1, "title": FORM_TITLE,
        "subtitle": [f"{TYPE_TH.get(root.type, '')} {root.name} (รหัส {root.code})".strip(),
                     f"ข้อมูล ณ วันที่ {thai_date(today)}"],
        "sections": [{"name": "ศูนย์พัฒนาเด็กเล็กที่จัดตั้งเอง", "columns": FORM_COLUMNS,
                      "rows": cells, "total": total if len(cells) > 1 else None}],
        "footer": SIGNATURE,
        "unit": {"id": root.id, "code": root.code, "name": root.name, "type": root.type},
    }
