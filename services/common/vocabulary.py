"""The census's shared words, defined once: unit types and statuses, the
levels of the confirmation chain, grades. Every service, the gateway and the
read model take them from here."""
from typing import Dict, Tuple

UNIT_TYPES: Tuple[str, ...] = ("department", "province", "lao", "school", "cdc", "other_school")
STATUSES: Tuple[str, ...] = ("pending", "active", "closed")
# the institutions that record learners (other-affiliation schools report headcounts)
INSTITUTION_TYPES: Tuple[str, ...] = ("school", "cdc")
LEAF_TYPES: Tuple[str, ...] = ("school", "cdc", "other_school")
# the units whose confirmation seals data held by enrollment (learners, headcounts, staff)
SEALED_TYPES: Tuple[str, ...] = ("school", "cdc", "lao")
# the units that confirm at all (an other-affiliation school is confirmed with its LAO)
CONFIRMING_TYPES: Tuple[str, ...] = ("school", "cdc", "lao", "province", "department")

# the levels of the confirmation chain; a round holds one deadline per level
LEVELS: Tuple[str, ...] = ("institution", "lao", "province", "department")
LEVEL_OF_TYPE: Dict[str, str] = {
    "school": "institution",
    "cdc": "institution",
    "other_school": "institution",
    "lao": "lao",
    "province": "province",
    "department": "department",
}

SCHOOL_GRADES: Tuple[str, ...] = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6",
                                  "m1", "m2", "m3", "m4", "m5", "m6")
CDC_GRADES: Tuple[str, ...] = ("cdc",)
ALL_GRADES: Tuple[str, ...] = SCHOOL_GRADES + CDC_GRADES
GRADES_OF_TYPE: Dict[str, Tuple[str, ...]] = {"school": SCHOOL_GRADES, "cdc": CDC_GRADES}
# other-affiliation schools report headcounts by the school grades
HEADCOUNT_GRADES: Tuple[str, ...] = SCHOOL_GRADES
KINDERGARTEN_TO_P6: Tuple[str, ...] = SCHOOL_GRADES[:9]

ROUND_STATES: Tuple[str, ...] = ("scheduled", "open", "closed", "finalized")
