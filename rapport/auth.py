"""Who may use the dashboard, which pages they see, which rows and columns (issue 6).

The users file (config/users.yml; RAPPORT_USERS overrides the path) maps an identity e-mail
to a role; the role gives the pages and whether personal data is shown; a regional director's
regions give the Scope applied in SQL by rapport.warehouse. Unknown e-mails are denied.

The audit log (data/audit/audit.log; RAPPORT_AUDIT_LOG overrides the path) receives one JSON
line per login, denied access and CSV export; it is only ever appended to.

No Streamlit imports here: the dashboard (dashboard/ui/context.py) decides *who* is asking
(OIDC login or local mode) and this module decides *what* they may see.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rapport.paths import PROJECT_ROOT, data_dir
from rapport.warehouse import Scope

ROLES = ("leadership", "regional_director", "data_team")
PAGES = ("overview", "tiers", "health", "power_map", "scorecards", "data_quality")

# Defaults, each overridable in the users file (`role_pages:`, `pii_roles:`).
DEFAULT_ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "leadership": PAGES,
    "regional_director": ("overview", "tiers", "health", "power_map", "scorecards"),
    "data_team": PAGES,
}
DEFAULT_PII_ROLES: tuple[str, ...] = ("leadership",)

# The identity of local mode when no `--as <email>` is given: full access, so that a demo on
# one's own machine shows everything. Local mode is not authentication (docs/security.md).
LOCAL_DEMO_EMAIL = "local-demo"


class AccessConfigError(Exception):
    """The users file is missing or malformed. The message names the file and the entry."""


@dataclass(frozen=True)
class Viewer:
    """A person allowed in: their e-mail, role, pages and the Scope of every query."""

    email: str
    role: str
    pages: tuple[str, ...]
    scope: Scope

    def may_open(self, page: str) -> bool:
        return page in self.pages


@dataclass(frozen=True)
class AccessConfig:
    users: Mapping[str, Mapping[str, Any]]
    role_pages: Mapping[str, tuple[str, ...]]
    pii_roles: tuple[str, ...]

    def viewer(self, email: str | None) -> Viewer | None:
        """The viewer for this e-mail, or None when the e-mail is unknown (denied)."""
        key = (email or "").strip().lower()
        entry = self.users.get(key)
        if not key or entry is None:
            return None
        role = entry["role"]
        pii = role in self.pii_roles
        if role == "regional_director":
            regions = tuple(entry["regions"])
            scope = Scope.regions(regions, may_see_pii=pii,
                                  label=f"{key} · regional director of {', '.join(regions)}")
        else:
            scope = Scope(region_ids=None, may_see_pii=pii,
                          label=f"{key} · {role.replace('_', ' ')}")
        return Viewer(email=key, role=role, pages=self.role_pages[role], scope=scope)


def users_file() -> Path:
    return Path(os.environ.get("RAPPORT_USERS") or PROJECT_ROOT / "config" / "users.yml")


def local_demo_viewer() -> Viewer:
    return Viewer(email=LOCAL_DEMO_EMAIL, role="leadership", pages=PAGES,
                  scope=Scope.all_access(label="local mode (demo): all access"))


def _strings(value: Any, where: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AccessConfigError(f"{where}: expected a list of names, got {value!r}")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise AccessConfigError(f"{where}: unknown {unknown}; use some of {list(allowed)}")
    return tuple(value)


def parse_config(raw: Any, source: str = "users file") -> AccessConfig:
    """Check and normalise a users file's content (see config/users.example.yml)."""
    if not isinstance(raw, dict):
        raise AccessConfigError(f"{source}: expected a mapping with a `users:` key")
    unknown_keys = sorted(set(raw) - {"users", "role_pages", "pii_roles"})
    if unknown_keys:
        raise AccessConfigError(f"{source}: unknown key(s) {unknown_keys}; "
                                "use users, role_pages, pii_roles")
    role_pages = dict(DEFAULT_ROLE_PAGES)
    for role, pages in (raw.get("role_pages") or {}).items():
        if role not in ROLES:
            raise AccessConfigError(f"{source}: role_pages.{role}: unknown role; use {ROLES}")
        role_pages[role] = _strings(pages, f"{source}: role_pages.{role}", PAGES)
    pii_roles = DEFAULT_PII_ROLES
    if "pii_roles" in raw:
        pii_roles = _strings(raw["pii_roles"] or [], f"{source}: pii_roles", ROLES)
    users: dict[str, dict[str, Any]] = {}
    for email, entry in (raw.get("users") or {}).items():
        where = f"{source}: users.{email}"
        if not isinstance(email, str) or "@" not in email:
            raise AccessConfigError(f"{where}: the key must be an e-mail address")
        if not isinstance(entry, dict) or entry.get("role") not in ROLES:
            raise AccessConfigError(f"{where}: needs `role:` one of {ROLES}")
        role = entry["role"]
        normal: dict[str, Any] = {"role": role}
        if role == "regional_director":
            regions = _strings(entry.get("regions"), f"{where}.regions")
            normal["regions"] = regions
        elif "regions" in entry:
            raise AccessConfigError(f"{where}: only a regional_director has `regions:`")
        users[email.strip().lower()] = normal
    return AccessConfig(users=users, role_pages=role_pages, pii_roles=pii_roles)


def load_config(path: Path | None = None) -> AccessConfig:
    """The users file's configuration; AccessConfigError names the file and what is wrong."""
    path = path or users_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccessConfigError(
            f"{path}: no users file; copy config/users.example.yml to config/users.yml "
            "(or set RAPPORT_USERS)") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AccessConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_config(raw, str(path))


# --- audit log -------------------------------------------------------------------------------

AUDIT_EVENTS = ("login", "denied", "export")


def audit_log_path() -> Path:
    return Path(os.environ.get("RAPPORT_AUDIT_LOG") or data_dir() / "audit" / "audit.log")


def audit(event: str, who: str | None, what: str = "", **details: Any) -> None:
    """Append one JSON line {at, event, who, what, ...} to the audit log (never rewritten).

    The file is opened in append mode (O_APPEND) and locked for the write, so lines from
    several server threads or processes do not interleave.
    """
    if event not in AUDIT_EVENTS:
        raise ValueError(f"audit event {event!r}: use one of {AUDIT_EVENTS}")
    record = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "event": event,
        "who": (who or "")[:320],
        "what": what[:1000],
        **{k: (v[:1000] if isinstance(v, str) else v) for k, v in details.items()},
    }
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    path = audit_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
