"""The vocabulary of an institution's staff (caregivers and teachers), shared by
enrollment (which records them), reporting (which counts them) and the portal.

Each term has its Thai name as the local education offices write it."""

# position -> Thai
POSITIONS = {
    "caregiver_teacher": "ครูผู้ดูแลเด็ก",
    "caregiver": "ผู้ดูแลเด็ก",
    "teacher": "ครู",
}

# employment type -> Thai
EMPLOYMENT_TYPES = {
    "civil_servant": "ข้าราชการ",
    "government_employee": "พนักงานราชการ",
    "mission_employee": "พนักงานจ้างตามภารกิจ",
    "general_employee": "พนักงานจ้างทั่วไป",
    "other": "อื่น ๆ",
}

# highest qualification -> Thai
QUALIFICATIONS = {
    "below_bachelor": "ต่ำกว่าปริญญาตรี",
    "bachelor_ece": "ปริญญาตรี การศึกษาปฐมวัย",
    "bachelor_other": "ปริญญาตรี สาขาอื่น",
    "master_or_higher": "ปริญญาโทขึ้นไป",
}

REMOVAL_REASONS = ("left", "retired", "transferred", "duplicate", "deceased", "other")

# the positions that look after CDC children (children per caregiver)
CAREGIVING = ("caregiver_teacher", "caregiver")


def by_position(counts):
    """``{position: n}`` in vocabulary order, every position present."""
    counts = counts or {}
    return {p: int(counts.get(p, 0) or 0) for p in POSITIONS}


def staff_counts(counts):
    """``{total, by_position}`` from position -> n."""
    positions = by_position(counts)
    return {"total": sum(positions.values()), "by_position": positions}
