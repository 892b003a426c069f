"""Reporting service (skeleton: answers its health RPC)."""
from services.common.db import Database
from services.common.base import HealthMixin


class ReportingService(HealthMixin):
    name = "reporting"
    db = Database("reporting")
