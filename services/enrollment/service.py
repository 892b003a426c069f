"""Enrollment service (skeleton: answers its health RPC)."""
from services.common.db import Database
from services.common.base import HealthMixin


class EnrollmentService(HealthMixin):
    name = "enrollment"
    db = Database("enrollment")
