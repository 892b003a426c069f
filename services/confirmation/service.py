"""Confirmation service (skeleton: answers its health RPC)."""
from services.common.db import Database
from services.common.base import HealthMixin


class ConfirmationService(HealthMixin):
    name = "confirmation"
    db = Database("confirmation")
