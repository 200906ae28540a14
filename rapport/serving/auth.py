"""Who may use the dashboard, which pages they see, which rows and columns.

The users file (config/users.yml; RAPPORT_USERS overrides the path) maps an identity e-mail
to a role; the role gives the pages and whether personal data is shown; a regional director's
regions give the Scope applied in SQL by rapport.serving. Unknown e-mails are denied.

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
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rapport.pages import PAGE_IDS
from rapport.paths import PROJECT_ROOT, data_dir
from rapport.serving import Scope

ROLES = ("leadership", "regional_director", "account_manager", "data_team")
PAGES = PAGE_IDS  # the dashboard's pages (rapport/pages.py)

# Recording assessments (the capture page, rapport/serving/capture_store.py): who may write,
# and where.
# data_team: any account; regional_director: accounts of their regions; account_manager:
# accounts of their regions whose account team (AR, SR, FR today, or the AR of the current
# period) includes their rep_id. leadership reads only. Local mode's demo viewer writes as
# the data team would, attributed to `local-demo` (docs/security.md, "Recording
# assessments").
CAPTURE_PAGE = "capture"
WRITE_ROLES: tuple[str, ...] = ("regional_director", "account_manager", "data_team")

# Defaults, each overridable in the users file (`role_pages:`, `pii_roles:`).
DEFAULT_ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "leadership": tuple(p for p in PAGE_IDS if p != CAPTURE_PAGE),
    "regional_director": tuple(p for p in PAGE_IDS if p != "data_quality"),
    "account_manager": tuple(p for p in PAGE_IDS if p != "data_quality"),
    "data_team": PAGES,
}
DEFAULT_PII_ROLES: tuple[str, ...] = ("leadership",)

# Pages whose queries are not region-scoped (Data quality: every table's quarantine counts,
# build history, server paths). Only roles that see every region may be given them.
ALL_REGIONS_PAGES: tuple[str, ...] = ("data_quality",)
REGION_SCOPED_ROLES: tuple[str, ...] = ("regional_director", "account_manager")
USER_KEYS: tuple[str, ...] = ("role", "regions", "rep_id")

# The identity of local mode when no `--as <email>` is given: full access, so that a demo on
# one's own machine shows everything. Local mode is not authentication (docs/security.md).
LOCAL_DEMO_EMAIL = "local-demo"


class AccessConfigError(Exception):
    """The users file is missing or malformed. The message names the file and the entry."""


class LoginConfigError(AccessConfigError):
    """The login configuration (secrets file, local-mode flag, address) is broken or ambiguous.

    The message names the file or the setting and what to do; the dashboard refuses to serve.
    """


@dataclass(frozen=True)
class Viewer:
    """A person allowed in: their e-mail, role, pages and the Scope of every query."""

    email: str
    role: str
    pages: tuple[str, ...]
    scope: Scope
    login: str = ""  # how they came in: "oidc" or "local mode" (set by the dashboard)
    rep_id: str | None = None  # an account manager's rep_id (reps.csv)

    def may_open(self, page: str) -> bool:
        return page in self.pages

    @property
    def may_record(self) -> bool:
        """Whether this viewer may record assessments at all (where: may_write)."""
        return self.email == LOCAL_DEMO_EMAIL or self.role in WRITE_ROLES


@dataclass(frozen=True)
class AccessConfig:
    users: Mapping[str, Mapping[str, Any]]
    role_pages: Mapping[str, tuple[str, ...]]
    pii_roles: tuple[str, ...]

    def check_regions(self, known: Iterable[str], source: str = "users file") -> None:
        """Refuse a users file that gives a director a region the warehouse does not have."""
        known = set(known)
        for email, entry in self.users.items():
            unknown = sorted(set(entry.get("regions", ())) - known)
            if unknown:
                raise AccessConfigError(
                    f"{source}: users.{email}.regions: {unknown} not in the warehouse's regions "
                    f"({', '.join(sorted(known)) or 'none'}); use region_id values of "
                    "regions.csv")

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
        elif role == "account_manager":
            regions = tuple(entry["regions"])
            scope = Scope.regions(regions, may_see_pii=pii,
                                  label=f"{key} · account manager ({entry['rep_id']}) in "
                                        f"{', '.join(regions)}")
        else:
            scope = Scope(region_ids=None, may_see_pii=pii,
                          label=f"{key} · {role.replace('_', ' ')}")
        return Viewer(email=key, role=role, pages=self.role_pages[role], scope=scope,
                      rep_id=entry.get("rep_id"))


def may_write(viewer: Viewer, region_id: str | None, team: Iterable[str]) -> str | None:
    """None when the viewer may record assessments for an account of region `region_id`
    whose account team (rep_ids: AR, SR, FR today and the AR of the current period) is
    `team`; else the reason, in words, for the refusal."""
    if viewer.email == LOCAL_DEMO_EMAIL or viewer.role == "data_team":
        return None
    if viewer.role not in WRITE_ROLES:
        return (f"the role {viewer.role} may not record assessments (only "
                f"{', '.join(WRITE_ROLES)} and local mode's demo viewer)")
    regions = viewer.scope.region_ids or frozenset()
    if region_id not in regions:
        return (f"the account is not in your regions ({', '.join(sorted(regions)) or 'none'}); "
                "ask the account's regional director or the data team")
    if viewer.role == "account_manager" and (not viewer.rep_id or viewer.rep_id not in
                                             set(team)):
        return (f"you ({viewer.rep_id}) are not on this account's team (AR, SR, FR) in the "
                "current period; ask its account responsible or regional director")
    return None


def users_file() -> Path:
    return Path(os.environ.get("RAPPORT_USERS") or PROJECT_ROOT / "config" / "users.yml")


def local_demo_viewer() -> Viewer:
    return Viewer(email=LOCAL_DEMO_EMAIL, role="leadership", pages=PAGES,
                  scope=Scope.all_access(label="local mode (demo): all access"))


def parse_config(raw: Any, source: str = "users file") -> AccessConfig:
    """Check and normalise a users file's content (see config/users.example.yml) against its
    schema (rapport/serving/auth_schema.py); AccessConfigError names the file and each entry."""
    from pydantic import ValidationError

    from rapport.serving.auth_schema import UsersFile, problems

    try:
        spec = UsersFile.model_validate(raw)
    except ValidationError as exc:
        raise AccessConfigError("\n".join(f"{source}: {p}" for p in problems(exc))) from None
    return AccessConfig(
        users={email.strip().lower(): entry.normal() for email, entry in spec.users.items()},
        role_pages={**DEFAULT_ROLE_PAGES, **spec.role_pages},
        pii_roles=spec.pii_roles,
    )


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
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise AccessConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise AccessConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_config(raw, str(path))


class _DuplicateKey(yaml.YAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (PyYAML keeps the last
    one silently: a second entry for an e-mail would replace the first one's role)."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(f"line {line}: {key!r} is written twice (first on line "
                                    f"{seen[key]}); keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


# --- login configuration -------------------------------------------------------------------
#
# Two ways in, never a fallback from one to the other:
# - OIDC: an [auth] section in the secrets file (.streamlit/secrets.toml), checked here.
# - local mode: no login at all, only when asked for explicitly (`rapport serve --local` sets
#   RAPPORT_LOCAL_MODE=1) and only on a loopback address.
# Anything else (a secrets file that does not parse, an [Auth] section, auth keys outside the
# section, a missing key, both at once, neither) refuses to serve.

LOCAL_MODE_ENV = "RAPPORT_LOCAL_MODE"
LOOPBACK_ADDRESSES = ("127.0.0.1", "localhost", "::1")
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret",
             "server_metadata_url")
MIN_COOKIE_SECRET = 32


def local_mode_requested(environ: Mapping[str, str] | None = None) -> bool:
    value = (environ if environ is not None else os.environ).get(LOCAL_MODE_ENV, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise LoginConfigError(f"{LOCAL_MODE_ENV}={value!r}: use 1 (local mode) or leave it unset")


def read_secrets_files(paths: Iterable[str | Path]) -> dict[str, Any]:
    """The secrets files Streamlit will read, parsed and merged (later files win, as in
    Streamlit). A file that exists but does not parse raises LoginConfigError naming it."""
    merged: dict[str, Any] = {}
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir() or path.suffix != ".toml":
            continue  # Kubernetes-style secret folders: read by Streamlit itself
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise LoginConfigError(f"{path}: cannot be read ({exc}); fix its permissions or "
                                   "encoding, or remove it") from None
        try:
            merged.update(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise LoginConfigError(f"{path}: not valid TOML ({exc}); fix the file (the login "
                                   "configuration is in its [auth] section)") from None
    return merged


def _auth_problem(section: Any) -> str | None:
    if not isinstance(section, Mapping):
        return "[auth] must be a table of keys"
    missing = [k for k in AUTH_KEYS if not str(section.get(k) or "").strip()]
    if missing:
        return (f"[auth] lacks {', '.join(missing)} (rapport logs in with the default "
                f"provider: all of {', '.join(AUTH_KEYS)} directly under [auth])")
    redirect = str(section["redirect_uri"])
    if not redirect.endswith("/oauth2callback") or not redirect.startswith(("https://",
                                                                           "http://")):
        return f"[auth] redirect_uri {redirect!r} must be a URL ending in /oauth2callback"
    if len(str(section["cookie_secret"])) < MIN_COOKIE_SECRET:
        return (f"[auth] cookie_secret is shorter than {MIN_COOKIE_SECRET} characters; use a "
                "long random string (python -c 'import secrets; print(secrets.token_hex(32))')")
    if not str(section["server_metadata_url"]).startswith("https://"):
        return "[auth] server_metadata_url must be an https:// URL"
    return None


def login_mode(secrets: Mapping[str, Any], *, local: bool, address: str | None,
               source: str = ".streamlit/secrets.toml") -> str:
    """"oidc" or "local", or LoginConfigError when the configuration is wrong or ambiguous.

    secrets: the merged secrets (read_secrets_files, or st.secrets); source names the files
    in messages; local: `rapport serve --local` was given; address: where the server listens.
    """
    misspelled = [k for k in secrets if isinstance(k, str) and k.lower() == "auth" and k != "auth"]
    if misspelled:
        raise LoginConfigError(f"{source}: section [{misspelled[0]}]: Streamlit reads only "
                               "[auth], in lower case; rename the section")
    stray = [k for k in secrets if k in AUTH_KEYS]
    if stray:
        raise LoginConfigError(f"{source}: {', '.join(stray)} outside any section; put them "
                               "under an [auth] section")
    if "auth" in secrets:
        problem = _auth_problem(secrets["auth"])
        if problem:
            raise LoginConfigError(f"{source}: {problem}")
        if local:
            raise LoginConfigError(
                f"{source} configures a login ([auth]) and local mode was asked for too "
                "(--local / RAPPORT_LOCAL_MODE=1); choose one: drop --local to require the "
                "login, or move the secrets file away for a local demo")
        return "oidc"
    if not local:
        raise LoginConfigError(
            f"no login is configured ({source} has no [auth] section), so the dashboard "
            "serves nobody; configure OIDC there (docs/security.md), or run "
            "`rapport serve --local` for a demo on this machine only")
    if (address or "").strip() not in LOOPBACK_ADDRESSES:
        raise LoginConfigError(
            f"local mode (no login) may only listen on this machine (127.0.0.1, ::1), not on "
            f"{address or 'every interface'}; configure a login ([auth] in {source}) to "
            "serve a network")
    return "local"


# --- audit log -------------------------------------------------------------------------------

AUDIT_EVENTS = ("login", "denied", "export", "capture", "capture_refused")


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
