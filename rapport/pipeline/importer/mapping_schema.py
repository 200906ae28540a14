"""The shape of a mapping file, declared as pydantic models.

The file is read with every YAML scalar as text (`yes` and `0` stay labels), so the scalar
types below take text and turn it into typed values (a flag into a bool, a threshold into a
float), each with the message a mapping's author needs. Rules between keys of one node (one
source form, `unmapped` only with `map`) are the node's `rules`. What depends on the contract
(is `discount` a column of opportunities? is 'winning' an allowed status?) is checked in
mapping.py on the validated nodes.

A node that fails becomes `Invalid`, holding its errors (and, when dropping the keys in error
leaves a valid node, that partial node), so that one run lists every problem of the file:
the rest of the file is still validated and checked against the contract.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from rapport.pipeline.importer.values import DATE_FORMATS, ID_FORMATS

MAPPING_VERSION = "1"
UNMAPPED_POLICIES = ("quarantine", "pass", "blank")
UNMATCHED_POLICIES = ("quarantine", "blank")
MIN_FUZZY_THRESHOLD = 0.8
DEFAULT_FUZZY_THRESHOLD = 0.9
SOURCE_FORMS = ("column", "first_of", "template", "value")

Loc = tuple[str | int, ...]


def problem(message: str) -> PydanticCustomError:
    """A validation error whose text is shown as it is (braces included)."""
    return PydanticCustomError("mapping", "{message}", {"message": message})


def where(prefix: str, loc: Loc) -> str:
    """A YAML path: tables.opportunities.columns.status.map, sources[0], join[1]."""
    path = prefix
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else part
    return path


@dataclass(frozen=True)
class Invalid:
    """A node that does not fit its schema: its errors, located inside it, and the node
    without the keys in error when that much is valid (None otherwise)."""

    errors: tuple[ErrorDetails, ...]
    partial: Any = None


# the raw node being validated again without its keys in error: its own rules, already
# reported, are not checked again (a missing mapping_version would fail it once more)
_lenient: ContextVar[int | None] = ContextVar("lenient", default=None)


def keep_errors(validate: Callable[[Any], Any], value: Any) -> Any:
    """The node `validate` makes of value, or an Invalid node with its errors."""
    try:
        return validate(value)
    except ValidationError as exc:
        errors = tuple(exc.errors())
    bad = {e["loc"][0] for e in errors if e["loc"]}
    partial = None
    if isinstance(value, dict) and all(e["loc"] for e in errors):
        rest = {k: v for k, v in value.items() if k not in bad}
        token = _lenient.set(id(rest))
        try:
            partial = validate(rest)
        except ValidationError:
            partial = None
        finally:
            _lenient.reset(token)
    return Invalid(errors=errors, partial=partial)


def checked(validate: Callable[[Any], Any]) -> PlainValidator:
    """Validate a node with `validate`; on failure keep its errors as an Invalid node."""
    return PlainValidator(functools.partial(keep_errors, validate))


# ---------- scalars: YAML text in, typed values out


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise problem(f"expected a text value, got {value!r}")


def _word(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise problem(f"expected a text value, got {value!r}")


def _flag(value: Any) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise problem(f"expected true or false, got {value!r}")


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    raise problem(f"expected a column name or a list of names, got {value!r}")


def template_fields(template: str) -> list[str]:
    """Column names inside {braces} of a template."""
    names, depth, current = [], 0, ""
    for ch in template:
        if ch == "{":
            depth, current = depth + 1, ""
        elif ch == "}" and depth:
            depth -= 1
            names.append(current)
        elif depth:
            current += ch
    return names


def _template(value: Any) -> str:
    if not template_fields(_word(value)):
        raise problem("a template names columns in braces, e.g. '{FirstName} {LastName}'")
    return value


def _date_formats(value: Any) -> tuple[str, ...]:
    formats = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
    if not formats or not all(isinstance(f, str) for f in formats):
        raise problem(f"expected a date format or a list of them, got {value!r}")
    unknown = [f for f in formats if f not in DATE_FORMATS and "%" not in f]
    if unknown:
        raise problem(
            f"unknown date format {unknown[0]!r}; use one of "
            f"{', '.join(DATE_FORMATS)} or a strptime pattern such as '%d.%m.%Y'"
        )
    if "day_first" in formats and "month_first" in formats:
        raise problem(
            "day_first and month_first together would guess: 03/04/2025 "
            "reads both ways. Declare the one your export uses."
        )
    return formats


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value in choices:
            return value
        raise problem(f"one of {', '.join(choices)}")

    return check


def _take(value: Any) -> bool:
    if value == "first":
        return True
    raise problem("only `take: first`, and only together with split")


def _decimal_separator(value: Any) -> str:
    if value in (".", ","):
        return value
    raise problem("'.' or ','")


def _scale(value: Any) -> str:
    try:
        float(value)
    except (TypeError, ValueError):
        raise problem(f"a number such as 0.01, got {value!r}") from None
    return str(value)


def _threshold(value: Any) -> float:
    try:
        found = float(value)
    except (TypeError, ValueError):
        found = -1.0
    if MIN_FUZZY_THRESHOLD <= found <= 1.0:
        return found
    raise problem(
        f"a similarity between {MIN_FUZZY_THRESHOLD} "
        "and 1.0 (1.0 = only case, space and accent differences)"
    )


def _delimiter(value: Any) -> str:
    if isinstance(value, str) and len(value.replace("\\t", "\t")) == 1:
        return value.replace("\\t", "\t")
    raise problem("one character, e.g. ',' or ';' ('\\t' for tabs)")


def _pairs(value: Any) -> Any:
    if isinstance(value, dict) and value:
        return value
    raise problem("expected source value: contract value pairs")


def _map_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise problem("source values and contract values are text")


def _where_rule(value: Any) -> tuple[bool, tuple[str, ...]]:
    negate = isinstance(value, dict)
    values = value.get("not") if negate else value
    if isinstance(values, str):
        values = [values]
    if negate and set(value) != {"not"} or not isinstance(values, list):
        raise problem("expected [values] or {not: [values]}")
    return negate, tuple(str(v) for v in values)


def _where(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    raise problem("expected column: [values] or column: {not: [values]}")


def _listed(value: Any) -> Any:
    """A node or a list of them (join: {...} or join: [{...}, {...}])."""
    return [value] if isinstance(value, dict) else value


def _first_of(value: Any) -> Any:
    if isinstance(value, list) and len(value) >= 2:
        return value
    raise problem("a list of at least two columns/templates/values")


def _sources(value: Any) -> Any:
    if isinstance(value, list) and value:
        return value
    raise problem("a list of {file: ..., columns: ...}")


def _columns(value: Any) -> Any:
    if isinstance(value, dict) and value:
        return value
    raise problem("expected contract column: source pairs")


Text = Annotated[str, BeforeValidator(_text)]
Word = Annotated[str, BeforeValidator(_word)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
Template = Annotated[str, BeforeValidator(_template)]
DateFormats = Annotated[tuple[str, ...], BeforeValidator(_date_formats)]
IdFormat = Annotated[str, BeforeValidator(_one_of(ID_FORMATS))]
Unmapped = Annotated[str, BeforeValidator(_one_of(UNMAPPED_POLICIES))]
Unmatched = Annotated[str, BeforeValidator(_one_of(UNMATCHED_POLICIES))]
Take = Annotated[bool, BeforeValidator(_take)]
DecimalSeparator = Annotated[str, BeforeValidator(_decimal_separator)]
Scale = Annotated[str, BeforeValidator(_scale)]
Threshold = Annotated[float, BeforeValidator(_threshold)]
Delimiter = Annotated[str, BeforeValidator(_delimiter)]
ValueMap = Annotated[dict[str, Annotated[str, BeforeValidator(_map_value)]],
                     BeforeValidator(_pairs)]
WhereRule = Annotated[tuple[bool, tuple[str, ...]], BeforeValidator(_where_rule)]


# ---------- nodes


class Node(BaseModel):
    """A mapping of the file: known keys only, scalars typed, the node's own rules."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
    shape: ClassVar[str] = "expected a mapping"  # the message for a node of the wrong kind

    @classmethod
    def normalise(cls, raw: Any) -> Any:
        """A short form of the node written out (a column name for {column: ...})."""
        return raw

    @classmethod
    def rules(cls, raw: dict) -> list[tuple[Loc, str]]:
        """Rules between the node's keys, checked on the raw node (so they are listed
        together with the errors of its values)."""
        return []

    @classmethod
    def keys(cls) -> list[str]:
        return sorted(f.alias or name for name, f in cls.model_fields.items())

    @classmethod
    def explain(cls, error: ErrorDetails) -> str:
        """An error of one of this node's keys in the mapping author's words."""
        if error["type"] == "mapping":
            return error["msg"]
        if error["type"] == "extra_forbidden":
            return f"unknown key; allowed here: {', '.join(cls.keys())}"
        if error["type"] == "missing":
            field = next((f for n, f in cls.model_fields.items()
                          if (f.alias or n) == error["loc"][-1]), None)
            return f"missing: give {field.description if field else 'a value'}"
        return f"{error['msg']}, got {error['input']!r}"

    @model_validator(mode="wrap")
    @classmethod
    def _validate(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        data = cls.normalise(data)
        if not isinstance(data, dict):
            raise problem(cls.shape)
        errors = []
        try:
            node = handler(data)
        except ValidationError as exc:
            errors = [
                InitErrorDetails(type=problem(cls.explain(e)), loc=e["loc"], input=e["input"])
                for e in exc.errors()
            ]
        if _lenient.get() != id(data):
            errors += [
                InitErrorDetails(type=problem(message), loc=loc, input=data)
                for loc, message in cls.rules(data)
            ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return node


class PartNode(Node):
    """One way to read a value: a column (or header alternatives), a template, a constant."""

    shape: ClassVar[str] = (
        "expected a column name, {column: ...}, {template: ...} or {value: ...}"
    )
    column: Names | None = None
    template: Template | None = None
    value: Text | None = None

    @classmethod
    def normalise(cls, raw: Any) -> Any:
        return {"column": raw} if isinstance(raw, (str, list)) else raw

    @classmethod
    def rules(cls, raw: dict) -> list[tuple[Loc, str]]:
        return [] if len(raw) == 1 and set(raw) <= set(cls.model_fields) else [((), cls.shape)]


class JoinNode(Node):
    shape: ClassVar[str] = "expected {table: ..., by: ...}"
    table: Word = Field(description="the contract table to look the rows up in")
    by: Names = Field(description="the column(s) of that table that match the value")
    returns: Word | None = Field(None, alias="return")
    fuzzy: Flag = False
    threshold: Threshold = DEFAULT_FUZZY_THRESHOLD


CheckedJoin = Annotated[JoinNode | Invalid, checked(JoinNode.model_validate)]


class ColumnNode(Node):
    """How a contract column is read from a source row."""

    shape: ClassVar[str] = "expected a source column name or a column spec (a mapping)"
    column: Names | None = None
    first_of: Annotated[list[PartNode], BeforeValidator(_first_of)] | None = None
    template: Template | None = None
    value: Text | None = None
    optional: Flag = False
    split: Word | None = None
    take: Take = False
    id_format: IdFormat | None = None
    map: ValueMap | None = None
    unmapped: Unmapped | None = None
    date: DateFormats | None = None
    decimal_separator: DecimalSeparator | None = None
    scale: Scale | None = None
    join: Annotated[list[CheckedJoin], BeforeValidator(_listed)] = []
    on_unmatched: Unmatched | None = None
    default: Text | None = None
    description: Text | None = None

    @classmethod
    def normalise(cls, raw: Any) -> Any:
        return {"column": raw} if isinstance(raw, (str, list)) else raw

    @classmethod
    def rules(cls, raw: dict) -> list[tuple[Loc, str]]:
        found = []
        forms = [k for k in SOURCE_FORMS if k in raw]
        if len(forms) > 1:
            found.append(((), f"give one of {', '.join(SOURCE_FORMS)} (found {', '.join(forms)})"))
        elif not forms and "default" not in raw:
            found.append(((), "no source: give column, first_of, template, value or a default"))
        if raw.get("take") == "first" and "split" not in raw:
            found.append((("take",), "only `take: first`, and only together with split"))
        if raw.get("unmapped") in UNMAPPED_POLICIES and "map" not in raw:
            found.append((("unmapped",), "only meaningful with a map"))
        if raw.get("on_unmatched") in UNMATCHED_POLICIES and "join" not in raw:
            found.append((("on_unmatched",), "only meaningful with a join"))
        return found

    @property
    def parts(self) -> list[PartNode]:
        """The ways to read the value, in order (one unless first_of)."""
        if self.first_of is not None:
            return self.first_of
        forms = {k: getattr(self, k) for k in ("column", "template", "value")}
        return [PartNode.model_construct(**{k: v}) for k, v in forms.items() if v is not None]


CheckedColumn = Annotated[ColumnNode | Invalid, checked(ColumnNode.model_validate)]


class WindowsNode(Node):
    shape: ClassVar[str] = "expected {by: [columns], from: <date column>, to: <date column>}"
    by: Names = Field(description="the columns that group the events, e.g. [account_id, role]")
    from_: Word = Field(alias="from", description="the date column an event starts on")
    to: Word = Field(description="the date column that ends the window")
    description: Text | None = None


class SourceNode(Node):
    """One export file feeding a table."""

    shape: ClassVar[str] = "expected {file: ..., columns: {...}}"
    file: Word = Field(description="the export's file name or a glob pattern, e.g. Account.csv")
    columns: Annotated[dict[str, CheckedColumn], BeforeValidator(_columns)] = {}
    optional: Flag = False
    where: Annotated[dict[str, WhereRule], BeforeValidator(_where)] = {}
    windows: WindowsNode | None = None
    delimiter: Delimiter | None = None
    encoding: Text | None = None
    description: Text | None = None

    @classmethod
    def rules(cls, raw: dict) -> list[tuple[Loc, str]]:
        return [] if "columns" in raw else [(("columns",), "expected contract column: source pairs")]


CheckedSource = Annotated[SourceNode | Invalid, checked(SourceNode.model_validate)]


class SourcesTable(Node):
    sources: Annotated[list[CheckedSource], BeforeValidator(_sources)]
    description: Text | None = None


class DeriveFrom(Node):
    shape: ClassVar[str] = "expected {table: ..., column: ...}"
    table: Word = Field(description="a table imported by this mapping")
    column: Word = Field(description="a column of that table")


class DeriveNode(Node):
    shape: ClassVar[str] = "expected {from: [{table: ..., column: ...}], columns: [...]}"
    from_: list[DeriveFrom] = Field([], alias="from")
    columns: Names = Field(description="the contract columns that take the value")
    description: Text | None = None


class DerivedTable(Node):
    derive: DeriveNode
    description: Text | None = None


def table_node(raw: Any) -> SourcesTable | DerivedTable | SourceNode:
    """A table is derived (derive:), read from several files (sources:) or from one
    (file: + columns: written in the table itself)."""
    if not isinstance(raw, dict):
        raise ValidationError.from_exception_data("table", [InitErrorDetails(
            type=problem("expected sources: [...], or file: + columns:, or derive:"),
            loc=(), input=raw)])
    if "derive" in raw:
        return DerivedTable.model_validate(raw)
    if "sources" in raw:
        return SourcesTable.model_validate(raw)
    return SourceNode.model_validate(raw)


CheckedTable = Annotated[SourcesTable | DerivedTable | SourceNode | Invalid, checked(table_node)]


class MappingFile(Node):
    shape: ClassVar[str] = "expected a YAML mapping at the top level"
    mapping_version: Text | None = None
    name: Text | None = None
    description: Text | None = None
    encoding: Text = "utf-8-sig"
    delimiter: Delimiter = ","
    date_format: DateFormats = ("iso",)
    id_format: IdFormat | None = None
    tables: dict[str, CheckedTable]

    @classmethod
    def rules(cls, raw: dict) -> list[tuple[Loc, str]]:
        version = raw.get("mapping_version")
        if version == MAPPING_VERSION:
            return []
        return [(("mapping_version",), f"must be {MAPPING_VERSION} (found {version!r})")]

