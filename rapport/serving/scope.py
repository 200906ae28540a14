"""Who is asking: the rows and columns a query may return.

A `Scope` travels with every query of the data-access layer (rapport.serving.queries) and
is applied in SQL, below the pages: a page cannot forget it. Access control
(rapport.serving.auth: the users file's roles and regions) builds each viewer's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """What a viewer may see.

    region_ids: the regions whose reps, accounts, contacts and activities are visible;
        None means every region (leadership, data team). An empty set sees nothing.
    may_see_pii: whether contact names, birthdays, e-mails and private notes are shown;
        when False they are masked in SQL (initials, age band, nothing).
    label: a human-readable description for the page footer and the audit log.
    """

    region_ids: frozenset[str] | None = None
    may_see_pii: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.region_ids is not None and not isinstance(self.region_ids, frozenset):
            object.__setattr__(self, "region_ids", frozenset(self.region_ids))

    @classmethod
    def all_access(cls, label: str = "all regions, personal data visible") -> Scope:
        return cls(region_ids=None, may_see_pii=True, label=label)

    @classmethod
    def regions(cls, region_ids: Iterable[str], *, may_see_pii: bool = False,
                label: str = "") -> Scope:
        ids = frozenset(region_ids)
        return cls(region_ids=ids, may_see_pii=may_see_pii,
                   label=label or f"regions {', '.join(sorted(ids))}")

    @property
    def sees_all_regions(self) -> bool:
        return self.region_ids is None

    def cache_key(self) -> str:
        """A stable text form, used in cache keys so that two scopes never share a result."""
        regions = "*" if self.region_ids is None else ",".join(sorted(self.region_ids))
        return f"regions={regions};pii={int(self.may_see_pii)}"
