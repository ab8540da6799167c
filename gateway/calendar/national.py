"""The `holidays` package's Vietnam calendar, loaded without the package's other countries.

Why: `holidays.Vietnam` imports `holidays.countries.vietnam`, and importing any module of
`holidays.countries` first runs that package's `__init__`, which imports all of its 250
countries: some 300 modules and 8 MiB of the daemon's memory, for one country's calendar.
`vietnam.py` itself needs only the package's shared parts (`holidays.calendars`,
`holidays.groups`, `holidays.holiday_base`), so it is executed here from its file, under
its own module name, with its parent package left unimported. Once loaded (here or by a
normal import, whichever comes first) the one module serves both: `holidays.Vietnam`
finds it in `sys.modules` too.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

import holidays

MODULE = "holidays.countries.vietnam"
# The module is in sys.modules while it executes (as an import puts it): a second thread
# must wait for it to be whole, not take it half made.
_LOADING = threading.Lock()


def vietnam_calendar() -> type[holidays.HolidayBase]:
    """The `Vietnam` holidays class, as `holidays.Vietnam` is, with only its own module
    imported."""
    with _LOADING:
        return _load().Vietnam


def _load() -> ModuleType:
    module = sys.modules.get(MODULE)
    if module is None:
        path = Path(holidays.__file__).with_name("countries") / "vietnam.py"
        spec = importlib.util.spec_from_file_location(MODULE, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{MODULE}: no module at {path}", name=MODULE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[MODULE]
            raise
    return module
