"""The shape of the contract file (rapport/contract.yml), declared as pydantic models.

Each node declares its keys and their types; the rules between keys of a node (min / max
only for numbers) are the node's after-validators, and the rules between tables (a
reference names a contract column, belongs_to follows it to the parent's primary key) the
file's. rapport/contract.py turns the validated file into its dataclasses; `problems` turns
a ValidationError into the contract's message: every problem with its place in the file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

TYPES = ("string", "integer", "decimal", "date", "timestamp", "boolean")
NUMBER_TYPES = ("integer", "decimal")
MOMENT_TYPES = ("date", "timestamp")

Loc = tuple[str | int, ...]


def problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("contract", "{message}", {"message": message})


def _date(value: Any) -> date:
    """A contract date: YAML reads an unquoted 1990-01-01 as a date already."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise problem(f"must be a date YYYY-MM-DD, not {value!r}") from None


def _reference(value: Any) -> tuple[str, str]:
    table, dot, column = str(value).partition(".")
    if isinstance(value, str) and dot and table and column:
        return table, column
    raise problem(f"a reference is <table>.<column>, not {value!r}")


def _listed(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _required_when(value: Any) -> tuple[str, tuple[str, ...]]:
    if not isinstance(value, dict) or len(value) != 1:
        raise problem(f"required_when is one {{column: [values]}}, not {value!r}")
    ((other, values),) = value.items()
    values = values if isinstance(values, list) else [values]
    return str(other), tuple(str(v) for v in values)


def _number(value: Any) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise problem(f"expected a number, not {value!r}")


def _scalar(value: Any) -> str | bool | int | float:
    if isinstance(value, (str, bool, int, float)):
        return value
    raise problem(f"expected a text, number or true/false value, not {value!r}")


Date = Annotated[date, BeforeValidator(_date)]
Number = Annotated[int | float, BeforeValidator(_number)]  # an int stays an int (docs)
Reference = Annotated[tuple[str, str], BeforeValidator(_reference)]
Scalar = Annotated[str | bool | int | float, BeforeValidator(_scalar)]


def raise_all(title: str, found: list[tuple[Loc, str]], data: Any) -> None:
    """Raise every rule broken (location, message) at once."""
    if found:
        raise ValidationError.from_exception_data(title, [
            InitErrorDetails(type=problem(message), loc=loc, input=data) for loc, message in found
        ])


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
    label: ClassVar[str] = ""  # "unknown <label>key": "unknown bounds key"

    @classmethod
    def keys(cls) -> list[str]:
        return sorted(f.alias or name for name, f in cls.model_fields.items())


class BoundsSpec(Node):
    label: ClassVar[str] = "bounds "
    number_abs_max: float = Field(1e12, gt=0, allow_inf_nan=False)
    earliest_date: Date = date(1990, 1, 1)
    latest_years_after_as_of: int = Field(10, ge=0)


class ColumnSpec(Node):
    type: Literal["string", "integer", "decimal", "date", "timestamp", "boolean"]
    required: bool = False
    description: str = ""
    allowed: list[Scalar] | None = None
    allowed_from: str | None = None  # a seed of activity types (activity_taxonomy)
    case: Literal["lower", "upper"] | None = None
    min: Number | None = None
    max: Number | None = None
    earliest: Date | None = None
    references: Reference | None = None
    belongs_to: str | None = None
    pii: bool = False
    required_when: Annotated[tuple[str, tuple[str, ...]], BeforeValidator(_required_when)] | None = (
        None
    )
    default: Scalar | None = None

    @model_validator(mode="after")
    def _rules(self) -> ColumnSpec:
        found: list[tuple[Loc, str]] = []
        if self.type not in NUMBER_TYPES and (self.min is not None or self.max is not None):
            found.append(((), "min / max are for numbers (a date column sets `earliest`)"))
        if self.earliest is not None and self.type not in MOMENT_TYPES:
            found.append((("earliest",), "earliest is for dates and timestamps"))
        if self.belongs_to and not self.references:
            found.append((("belongs_to",), "belongs_to needs references"))
        if self.required_when is not None and self.required:
            found.append((("required_when",), ("required_when is for a column that is not "
                                              "required on every row (required: false)")))
        raise_all("column", found, self)
        return self


class CheckSpec(Node):
    name: str
    rule: str  # SQL over the typed columns that must hold for a row to be clean


class TableSpec(Node):
    description: str = ""
    core: bool | None = None
    required_table: bool | None = None  # the earlier name of `core`
    primary_key: list[str] = Field(min_length=1)
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    checks: list[CheckSpec] = []
    feeds: Annotated[list[str], BeforeValidator(_listed)] = []

    @model_validator(mode="after")
    def _rules(self) -> TableSpec:
        raise_all("table", [
            (("primary_key",), f"{key} is not a column of the table")
            for key in self.primary_key if key not in self.columns
        ], self)
        return self


class LayerSpec(Node):
    needs: str | None = None  # human text: 'interactions and contacts'
    description: str = ""
    columns_any: list[Reference] = []


class ContractFile(Node):
    version: int
    bounds: BoundsSpec = BoundsSpec()
    layers: dict[str, Annotated[LayerSpec, BeforeValidator(lambda v: v or {})]] = {}
    tables: dict[str, TableSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules(self) -> ContractFile:
        raise_all("contract", self.reference_rules() + self.layer_rules(), self)
        return self

    def column(self, table: str, column: str) -> ColumnSpec | None:
        return self.tables[table].columns.get(column) if table in self.tables else None

    def reference_rules(self) -> list[tuple[Loc, str]]:
        """A reference names a contract column; belongs_to follows it to the parent's
        one-column primary key, and both tables have the belongs_to column."""
        found = []
        for tname, table in self.tables.items():
            for cname, col in table.columns.items():
                at: Loc = ("tables", tname, "columns", cname)
                if col.references and self.column(*col.references) is None:
                    found.append(((*at, "references"), (f"{'.'.join(col.references)} is not "
                                                       "a contract column")))
                elif col.belongs_to:
                    found += [((*at, "belongs_to"), m)
                              for m in self.belongs_to_rules(tname, col)]
        return found

    def belongs_to_rules(self, tname: str, col: ColumnSpec) -> list[str]:
        parent, parent_col = col.references or ("", "")
        found = []
        if self.tables[parent].primary_key != [parent_col]:
            found.append(f"{parent}.{parent_col} is not {parent}'s primary key")
        if col.belongs_to not in self.tables[parent].columns:
            found.append(f"{parent} has no column {col.belongs_to}")
        if col.belongs_to not in self.tables[tname].columns:
            found.append(f"{tname} has no column {col.belongs_to}")
        return found

    def layer_rules(self) -> list[tuple[Loc, str]]:
        """Every `feeds` names a layer, every layer is fed, columns_any names columns."""
        found: list[tuple[Loc, str]] = []
        for name, layer in self.layers.items():
            found += [((("layers", name, "columns_any", i)),
                       f"{'.'.join(ref)} is not a contract column")
                      for i, ref in enumerate(layer.columns_any) if self.column(*ref) is None]
            if not any(name in t.feeds for t in self.tables.values()):
                found.append((("layers", name), f"layer {name} is fed by no table"))
        for tname, table in self.tables.items():
            unknown = [f for f in table.feeds if f not in self.layers]
            if unknown:
                found.append((("tables", tname, "feeds"), (f"{tname} feeds unknown layer(s) {unknown}; "
                                                          "declare them under `layers`")))
        return found


def _node_at(loc: Loc) -> type[Node]:
    """The model at a location in the file (for the allowed keys of an unknown key)."""
    places: dict[tuple[int, str | int | None], type[Node]] = {
        (0, None): ContractFile, (1, "bounds"): BoundsSpec, (2, "layers"): LayerSpec,
        (2, "tables"): TableSpec, (4, "columns"): ColumnSpec, (4, "checks"): CheckSpec,
    }
    key = loc[2] if len(loc) == 4 else loc[0] if loc else None
    return places.get((len(loc), key), ContractFile)


def _explain(error: Any) -> str:
    if error["type"] == "contract":
        return error["msg"]
    if error["type"] == "extra_forbidden":
        node = _node_at(tuple(error["loc"][:-1]))
        return f"unknown {node.label}key; allowed here: {', '.join(node.keys())}"
    if error["type"] == "missing":
        return f"missing: the {error['loc'][-1]} key is required here"
    return f"{error['msg']}, not {error['input']!r}"


def _where(loc: Loc) -> str:
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else part
    return path or "(top level)"


def problems(exc: ValidationError) -> list[str]:
    """A ValidationError in the contract's words: '<path in the file>: <what is wrong>'."""
    return [f"{_where(tuple(e['loc']))}: {_explain(e)}" for e in exc.errors()]

