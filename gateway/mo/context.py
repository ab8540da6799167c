"""The `gateway.mo.api.Context` a handler gets: the gateway behind the handlers' API.

Here, not in the handlers, live the store's dossier rows, the agencies' configuration,
the diacritics rule and the sender's encoding; a handler sees `Dossier` views and the
methods of the API only. The dispatcher hands it those pieces, never the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from gateway.compose.templates import render, template_for
from gateway.domain.dossier import FINISHED_STATUSES, DossierRow
from gateway.domain.mirror import receipt_key
from gateway.domain.timeliness import timeliness
from gateway.mo.api import Dossier, Service
from gateway.settings.agencies import AgencyConfig
from gateway.smpp.text import Encoding


class DossierSource(Protocol):
    async def lookup(self, receipt_keys: Sequence[str]) -> dict[str, list[DossierRow]]: ...


@dataclass(frozen=True, slots=True)
class MoContext:
    """One MO's context. `dossiers` may be None where no lookup is made (a test that
    renders a reply for a known row)."""

    dossiers: DossierSource | None
    agencies: Mapping[str, AgencyConfig]  # names, templates, diacritics policy
    encoding: Encoding  # the sender's: segments counted as it will cut them
    max_lookups: int  # `mo.max_lookups`
    today: date
    services: Sequence[Service] = ()

    async def find(self, numbers: Sequence[str]) -> list[list[Dossier]]:
        if self.dossiers is None:
            raise RuntimeError("this context has no dossier source")
        keys = [receipt_key(n) for n in numbers]
        found = await self.dossiers.lookup(keys)
        return [[self.view(row) for row in found.get(key, [])] for key in keys]

    def view(self, row: DossierRow) -> Dossier:
        """A stored dossier as a handler sees it, its timeliness as of `today`."""
        agency = self.agencies.get(row.agency)
        finished = row.status in FINISHED_STATUSES and row.finished_on is not None
        due = date.fromisoformat(row.due_date) if row.due_date else None
        return Dossier(
            receipt_no=row.receipt_no,
            agency=row.agency,
            agency_name=agency.name if agency else row.agency,
            procedure=row.procedure,
            step=row.step,
            due_date=due,
            # A finished dossier by the day it first finished; an open one (also one
            # reopened after finishing) by today.
            timeliness=timeliness(
                today=self.today,
                due_date=due,
                finished_on=(
                    date.fromisoformat(row.finished_on) if finished and row.finished_on else None
                ),
            ),
        )

    def template(self, kind: str, agency: str | None) -> str:
        config = self.agencies.get(agency) if agency else None
        return template_for(kind, config.templates if config else {})

    def render(self, template: str, fields: Mapping[str, str], *, agency: str | None) -> str:
        return render(template, fields, strip=self._strips(agency))

    def segments(self, text: str) -> int:
        return self.encoding.segments(text)

    def _strips(self, agency: str | None) -> bool:
        """The composer's rule: the agency's diacritics policy; no agency, stripped."""
        config = self.agencies.get(agency) if agency else None
        return config is None or config.diacritics == "strip"
