"""The dashboard's data-access layer: read-only, scoped, parameterised queries on the
served warehouse. No Streamlit, dbt or great_expectations imports here."""

from rapport.warehouse.reader import (
    MissingRelation,
    Reader,
    WarehouseChanged,
    WarehouseError,
    WarehouseIdentity,
    WarehouseMissing,
    WarehouseUnavailable,
    identify,
)
from rapport.warehouse.scope import Scope

__all__ = [
    "MissingRelation",
    "Reader",
    "Scope",
    "WarehouseChanged",
    "WarehouseError",
    "WarehouseIdentity",
    "WarehouseMissing",
    "WarehouseUnavailable",
    "identify",
]
