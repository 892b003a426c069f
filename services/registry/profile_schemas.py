"""Institution profiles and the self-established CDC survey: what they accept.

A profile is one JSONB object on the unit (``org_units.profile``), validated
here as a whole after every change:

- ``address``: ``line`` (house number, village, road: free text),
  ``province_code`` (2 digits), ``district_code`` (4 digits, starting with the
  province's), ``subdistrict_code`` (6 digits, starting with the district's) —
  the Department of Provincial Administration's codes — and ``postcode`` (5 digits);
- ``established_on`` (an ISO date, Christian era like every date of the API) and
  ``authorisation_ref`` (the establishing order's number and date as written);
- ``contact``: ``name``, ``position``, ``phone`` (a Thai number: 9 digits for a
  fixed line 02-07x, 10 for a mobile 06/08/09x; +66 accepted; kept as digits),
  ``email``;
- ``capacity``: how many learners or children it can take (0 or more);
- ``buildings`` (CDCs only): ``count``, ``condition`` (good, fair or poor) and
  ``year_built`` — a Christian-era year (1900 .. this year), as the API's dates;
  the portal shows and takes it in the Buddhist era (CE + 543).

The survey (``org_units.survey``, CDCs only) holds what the department's form
for CDCs an LAO set up itself asks beyond the profile: who established it
(``established_by``), the ``funding_source`` (lao_budget, subsidy, donation or
other) and ``children_expected``.
"""
import datetime as dt
import re

import marshmallow as ma
from marshmallow import fields, validate

from services.common import settings
from services.common.text import FreeText, Name

REGISTRY_STATUSES = ("pending", "active", "closed", "rejected")
# what an establishment document may be (the registry checks the bytes, the gateway the upload)
CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
BUILDING_CONDITIONS = ("good", "fair", "poor")
FUNDING_SOURCES = ("lao_budget", "subsidy", "donation", "other")
DOCUMENT_KINDS = ("establishment_order", "other")


def max_bytes():
    """The largest document accepted (``LEC_DOCUMENT_MAX_BYTES``, default 5 MB)."""
    return settings.current().document_max_bytes


_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def thai_phone(value):
    """A Thai phone number as digits (``0812345678``, ``053123456``), or None when it is not one."""
    if not isinstance(value, str):
        return None
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("+66"):
        digits = "0" + digits[3:]
    if re.fullmatch(r"0[689]\d{8}", digits) or re.fullmatch(r"0[2-7]\d{7}", digits):
        return digits
    return None


class ThaiPhone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        digits = thai_phone(text)
        if digits is None:
            raise ma.ValidationError("a Thai phone number: 9 digits for a fixed line (0X XXX XXXX), "
                                     "10 for a mobile (0X XXXX XXXX)")
        return digits


def _text(max_len, required=False):
    return fields.String(required=required, validate=[validate.Length(min=1, max=max_len), FreeText()])


class Address(ma.Schema):
    line = _text(300)
    province_code = fields.String(validate=validate.Regexp(r"^\d{2}$", error="2 digits"))
    district_code = fields.String(validate=validate.Regexp(r"^\d{4}$", error="4 digits"))
    subdistrict_code = fields.String(validate=validate.Regexp(r"^\d{6}$", error="6 digits"))
    postcode = fields.String(validate=validate.Regexp(r"^\d{5}$", error="5 digits"))

    @ma.validates_schema
    def nested_codes(self, data, **kwargs):
        province, district, sub = (data.get(k) for k in ("province_code", "district_code",
                                                          "subdistrict_code"))
        if district and province and not district.startswith(province):
            raise ma.ValidationError("a district of the province: its first 2 digits are the "
                                     "province's code", "district_code")
        if sub and district and not sub.startswith(district):
            raise ma.ValidationError("a subdistrict of the district: its first 4 digits are the "
                                     "district's code", "subdistrict_code")


class ContactOfficer(ma.Schema):
    name = fields.String(validate=[validate.Length(min=1, max=200), Name()])
    position = _text(200)
    phone = ThaiPhone(metadata={"description": "a Thai number, kept as digits"})
    email = fields.Email(validate=validate.Length(max=254))


def _year_built(value):
    if not 1900 <= value <= dt.date.today().year:
        raise ma.ValidationError(f"a Christian-era year from 1900 to {dt.date.today().year} "
                                 "(the Buddhist era minus 543)")


class Buildings(ma.Schema):
    count = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    condition = fields.String(validate=validate.OneOf(BUILDING_CONDITIONS))
    year_built = fields.Integer(strict=True, validate=_year_built,
                                metadata={"description": "Christian era (CE); the portal shows BE"})


def _not_future(value):
    if value > dt.date.today():
        raise ma.ValidationError("must not be in the future")


class Profile(ma.Schema):
    """Every field optional; a PATCH sends only what changes (``null`` clears a field)."""
    address = fields.Nested(Address)
    established_on = fields.Date(validate=_not_future)
    authorisation_ref = _text(200)
    contact = fields.Nested(ContactOfficer)
    capacity = fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000))
    buildings = fields.Nested(Buildings, metadata={"description": "CDCs only"})


class Survey(ma.Schema):
    """The self-established CDC survey's own fields (beside the profile)."""
    established_by = _text(200, required=True)
    funding_source = fields.String(required=True, validate=validate.OneOf(FUNDING_SOURCES))
    children_expected = fields.Integer(required=True, strict=True,
                                       validate=validate.Range(min=0, max=10_000))
    note = _text(1000)


class UnitUpdate(ma.Schema):
    """``PATCH /org-units/{id}``: the name and/or part of the profile (and, for a CDC
    under survey, the survey); ``version`` (or an If-Match header) guards against
    overwriting a change made meanwhile."""
    name = fields.String(validate=[validate.Length(min=1, max=255), Name()])
    profile = fields.Dict(metadata={"description": "part of a Profile: the keys given replace "
                                                   "(objects merge one level deep; null clears)"})
    survey = fields.Dict(metadata={"description": "part of a Survey (CDCs pending or rejected)"})
    version = fields.Integer(strict=True, metadata={"description": "the version read; conflict "
                                                                   "when the unit changed since"})

    @ma.validates_schema
    def something(self, data, **kwargs):
        if not any(k in data for k in ("name", "profile", "survey")):
            raise ma.ValidationError("give name, profile and/or survey", "_schema")


class UnitRejection(ma.Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=1000), FreeText()])


class Document(ma.Schema):
    id = fields.Integer()
    org_unit_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(DOCUMENT_KINDS))
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    created_at = fields.AwareDateTime()
    created_by = fields.Integer(allow_none=True)
