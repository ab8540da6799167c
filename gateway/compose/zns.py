"""A notice's ZNS template parameters, filled from the dossier's fields.

Each parameter of an agency's ZNS template (`zalo.templates`) is written like an SMS
template, with `{receipt_no}`, `{due_date}`…, and is filled by the composer's own
renderer (`gateway.compose.templates.render`), diacritics kept: Zalo shows Unicode at no
extra cost. It lives with the composer, not in `gateway.zalo`, because the renderer is the
composer's and the Zalo client below it knows nothing of dossiers.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.compose.templates import render
from gateway.domain.notice import TemplateError
from gateway.settings.zalo import ZnsTemplate


def render_params(template: ZnsTemplate, fields: Mapping[str, str]) -> dict[str, str]:
    """Zalo's `template_data` for `template`: each parameter's wording filled with `fields`.

    Raises TemplateError naming the parameter when a field it uses is not given (or not
    text): a half-filled ZNS is never sent, as a half-filled SMS is not.
    """
    data: dict[str, str] = {}
    for name, wording in template.params.items():
        try:
            data[name] = render(wording, fields, strip=False)
        except TemplateError as exc:
            raise TemplateError(f"ZNS parameter {name}: {exc}") from None
    return data
