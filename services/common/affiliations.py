"""The affiliations of schools that an LAO funds but does not run (other-affiliation
schools), as data: the registry accepts only these codes, and
``GET /api/v1/affiliations`` lists them for forms."""

AFFILIATIONS = (
    {"code": "obec", "name_th": "สำนักงานคณะกรรมการการศึกษาขั้นพื้นฐาน (สพฐ.)",
     "short_th": "สพฐ.", "name_en": "Office of the Basic Education Commission (OBEC)",
     "short_en": "OBEC"},
    {"code": "bpp", "name_th": "กองบัญชาการตำรวจตระเวนชายแดน (ตชด.)", "short_th": "ตชด.",
     "name_en": "Border Patrol Police (BPP)", "short_en": "BPP"},
    {"code": "opec", "name_th": "สำนักงานคณะกรรมการส่งเสริมการศึกษาเอกชน (สช.)", "short_th": "สช.",
     "name_en": "Office of the Private Education Commission (OPEC)", "short_en": "OPEC"},
    {"code": "other", "name_th": "สังกัดอื่น", "short_th": "อื่น ๆ", "name_en": "Other affiliation",
     "short_en": "Other"},
)

CODES = tuple(a["code"] for a in AFFILIATIONS)


def listing():
    """``{"items": [...], "total": n}`` in the list's order."""
    return {"items": [dict(a) for a in AFFILIATIONS], "total": len(AFFILIATIONS)}
