"""Confirmation tables."""
from sqlalchemy import MetaData

from services.common.tables import add_common_tables

metadata = MetaData()
common = add_common_tables(metadata)
