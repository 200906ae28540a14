"""The shape of the users file (config/users.yml), declared as pydantic models.

A user entry is one of four forms chosen by its `role`: leadership and data_team have only
the role, a regional director also `regions`, an account manager `regions` and `rep_id`.
`role_pages` and `pii_roles` name known roles and pages; the file's rules (capture only for
roles that may write, pages of every region only for roles that see every region, one entry
per e-mail in lower case) are the file's validator. rapport.serving.auth turns a ValidationError
into its AccessConfigError with `problems`: each problem names the entry and what to do.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from rapport.serving.auth import (
    ALL_REGIONS_PAGES,
    CAPTURE_PAGE,
    DEFAULT_PII_ROLES,
    PAGES,
    REGION_SCOPED_ROLES,
    ROLES,
    USER_KEYS,
    WRITE_ROLES,
)

Role = Literal["leadership", "regional_director", "account_manager", "data_team"]


def problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("users", "{message}", {"message": message})


def _names(allowed: tuple[str, ...] | None = None) -> BeforeValidator:
    """A list of names (of `allowed` ones when given)."""

    def check(value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise problem(f"expected a list of names, got {value!r}")
        unknown = sorted(set(value) - set(allowed or value))
        if unknown:
            raise problem(f"unknown {unknown}; use some of {list(allowed or ())}")
        return tuple(value)

    return BeforeValidator(check)


def _once(regions: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(regions)) != len(regions):
        raise problem("a region is listed twice")
    return regions


def _email(value: Any) -> str:
    if isinstance(value, str) and "@" in value:
        return value
    raise problem("the key must be an e-mail address")


def _entry(value: Any) -> Any:
    if isinstance(value, dict) and value.get("role") in ROLES:
        return value
    raise problem(f"needs `role:` one of {ROLES}")


def _users(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value or {}
    raise problem(f"expected a mapping of e-mail -> entry, got {type(value).__name__}")


Pages = Annotated[tuple[str, ...], _names(PAGES)]
Regions = Annotated[tuple[str, ...], _names(), AfterValidator(_once)]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def normal(self) -> dict[str, Any]:
        """The entry as AccessConfig keeps it."""
        return self.model_dump(exclude_none=True)


class AllRegionsUser(Entry):
    """leadership or data_team: every region, no rep_id."""

    role: Literal["leadership", "data_team"]


class RegionalDirector(Entry):
    role: Literal["regional_director"]
    regions: Regions


class AccountManager(Entry):
    role: Literal["account_manager"]
    regions: Regions
    rep_id: str | None = None

    @model_validator(mode="after")
    def _needs_rep_id(self) -> AccountManager:
        if not (self.rep_id or "").strip():
            raise problem("an account_manager needs `rep_id:` (their rep_id in reps.csv): it "
                          "decides the accounts they may record assessments for; add it")
        return self.model_copy(update={"rep_id": (self.rep_id or "").strip()})


def _form(value: Any) -> str:
    role = value.get("role") if isinstance(value, dict) else None
    return f"form:{role if role in ('regional_director', 'account_manager') else 'all_regions'}"


UserEntry = Annotated[
    Annotated[AllRegionsUser, Tag("form:all_regions")]
    | Annotated[RegionalDirector, Tag("form:regional_director")]
    | Annotated[AccountManager, Tag("form:account_manager")],
    Discriminator(_form),
    BeforeValidator(_entry),
]


class UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    users: Annotated[dict[Annotated[str, BeforeValidator(_email)], UserEntry],
                     BeforeValidator(_users)] = {}
    role_pages: Annotated[dict[Role, Pages], BeforeValidator(lambda v: v or {})] = {}
    # (validators run last-first: an empty `pii_roles:` is an empty list)
    pii_roles: Annotated[tuple[str, ...], _names(ROLES),
                         BeforeValidator(lambda v: v or [])] = DEFAULT_PII_ROLES

    @model_validator(mode="after")
    def _rules(self) -> UsersFile:
        for role, pages in self.role_pages.items():
            if CAPTURE_PAGE in pages and role not in WRITE_ROLES:
                raise _at(("role_pages", role), (
                    f"{CAPTURE_PAGE} records assessments and {role} may not write (only "
                    f"{', '.join(WRITE_ROLES)}); remove {CAPTURE_PAGE} from the list"))
            refused = [p for p in pages if p in ALL_REGIONS_PAGES]
            if role in REGION_SCOPED_ROLES and refused:
                raise _at(("role_pages", role), (
                    f"{refused} show every region's data (quarantine, build history, file "
                    f"paths) and cannot be given to a role limited to its regions; remove "
                    f"{', '.join(refused)} from the list"))
        spelled: dict[str, str] = {}
        for email in self.users:
            key = email.strip().lower()
            if key in spelled:
                raise _at(("users", email), (
                    f"the same e-mail as users.{spelled[key]} (e-mails are compared in lower "
                    "case); keep one entry per person"))
            spelled[key] = email
        return self


def _at(loc: tuple[str, ...], message: str) -> ValidationError:
    return ValidationError.from_exception_data(
        "users", [InitErrorDetails(type=problem(message), loc=loc, input=None)])


def _explain(error: ErrorDetails) -> tuple[tuple[Any, ...], str]:
    """Where (the entry) and what, in the users file's words."""
    # the entry's form ('form:account_manager') and a key's marker are not places in the file
    loc = tuple(p for p in error["loc"] if not str(p).startswith("form:") and p != "[key]")
    if error["type"] == "users":
        return loc, error["msg"]
    if error["type"] == "model_type" and not loc:
        return loc, "expected a mapping with a `users:` key"
    if error["type"] == "extra_forbidden" and loc[:1] == ("users",):
        key = loc[-1]
        if key == "regions":
            return loc[:-1], "only a regional_director or an account_manager has `regions:`"
        if key == "rep_id":
            return loc[:-1], "only an account_manager has `rep_id:`"
        return loc[:-1], f"unknown key(s) [{key!r}]; an entry has only {', '.join(USER_KEYS)}"
    if error["type"] == "extra_forbidden":
        return (), f"unknown key(s) [{loc[-1]!r}]; use users, role_pages, pii_roles"
    if error["type"] == "literal_error" and loc[:1] == ("role_pages",):
        return loc, f"unknown role; use {ROLES}"
    if error["type"] == "missing":
        form = next((str(p)[5:] for p in error["loc"] if str(p).startswith("form:")), "entry")
        return loc, f"missing: a {form} needs `{loc[-1]}:`"
    return loc, f"{error['msg']}, got {error['input']!r}"


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def problems(exc: ValidationError) -> list[str]:
    """Each problem as '<entry>: <what is wrong and what to do>'."""
    found = []
    for error in exc.errors():
        loc, message = _explain(error)
        found.append(f"{_where(loc)}: {message}" if loc else message)
    return found

