"""The dashboard's data-access layer: read-only, scoped, parameterised queries on the
served warehouse. No Streamlit, dbt or great_expectations imports here.

The serving layer (served warehouse -> viewer): beside the reader, its scope, queries/ and
builds, access control (auth, auth_schema), the capture store the dashboard writes to
(capture_store) and `rapport serve` (serve). Nothing here imports the pipeline
(tests/test_layers.py)."""

from rapport.serving.reader import (
    MissingRelation,
    Reader,
    WarehouseChanged,
    WarehouseError,
    WarehouseIdentity,
    WarehouseMissing,
    WarehouseUnavailable,
    identify,
)
from rapport.serving.scope import Scope

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
