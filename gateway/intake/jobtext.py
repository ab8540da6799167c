"""The text of an SMS job: its ready text, or its agency's template filled with its params.

One rendering for every copy of the job: the SMS (where the agency's diacritics policy is
applied afterwards, by the composer) and the e-mail copy (always with diacritics), so the
two say the same words. A template job names a notice kind (`result`, ...) or a template
of the agency; for a notice kind the gateway fills `agency_name` itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.compose.templates import (
    FILLED_FOR_JOBS,
    job_template,
    names_notice_kind,
    notice_job_fields,
    render,
)
from gateway.domain.notice import TemplateError, template_fields
from gateway.intake.payloads import SmsJob, TemplateParams
from gateway.settings.agencies import AgencyConfig

__all__ = ["job_text", "placeholders"]


def job_text(job: SmsJob, agency: AgencyConfig) -> str:
    """The job's words with their diacritics.

    Raises:
        TemplateError: the template cannot be filled with the job's params.
    """
    if job.text is not None:
        return job.text
    name = job.template or ""
    fields: Mapping[str, str] = job.params
    if names_notice_kind(name):
        fields = notice_job_fields(job.params, agency_name=agency.name)
    return render(job_template(name, agency.templates), fields, strip=False)


def placeholders(
    agencies: Mapping[str, AgencyConfig], agency: str, name: str
) -> TemplateParams | None:
    """The params an SMS job gives the agency's template `name`, None if it has none: all
    its placeholders, but those of a notice kind that the gateway fills itself."""
    try:
        fields = template_fields(job_template(name, agencies[agency].templates))
    except (TemplateError, KeyError):
        return None
    if names_notice_kind(name):
        return TemplateParams(fields - FILLED_FOR_JOBS, filled=FILLED_FOR_JOBS)
    return TemplateParams(fields)
