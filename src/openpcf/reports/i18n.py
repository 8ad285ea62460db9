"""Look-ups in the bilingual message catalogue of the CFP study report (English and Chinese).

Every word the report prints that does not come from the model file lives in the data files
``openpcf/reports/messages/<lang>.yaml``, under one key per message, so the template holds no
text and a translation is a change to those files only. Chinese terms follow GB/T 24067-2024
(the Chinese adoption of ISO 14067:2018). Text taken from the model file (names, comments,
exclusions) is shown as written.

Messages with ``{name}`` fields are filled in by :mod:`openpcf.reports.build` with
:meth:`str.format`; the template only prints finished strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

import yaml

from openpcf.reports.errors import UnknownLanguageError

LANGUAGES: tuple[str, ...] = ("en", "zh")

#: Clause-7 checklist: message key of the requirement -> section number in the report.
CHECKLIST: tuple[tuple[str, int], ...] = (
    ("c_values", 1),
    ("c_unit", 2),
    ("c_boundary", 3),
    ("c_processes", 4),
    ("c_data", 5),
    ("c_ghg", 6),
    ("c_allocation", 7),
    ("c_electricity", 8),
    ("c_period", 9),
    ("c_sensitivity", 10),
    ("c_interpretation", 11),
    ("c_value_choices", 11),
    ("c_scope", 3),
    ("c_rules", 12),
    ("c_review", 12),
)

#: Section keys in report order; section ``n`` is ``SECTIONS[n - 1]``.
SECTIONS: tuple[str, ...] = (
    "s_summary",
    "s_scope",
    "s_boundary",
    "s_processes",
    "s_data",
    "s_ghg",
    "s_allocation",
    "s_electricity",
    "s_period",
    "s_sensitivity",
    "s_interpretation",
    "s_rules",
)


@cache
def _catalogue(lang: str) -> Mapping[str, Mapping[str, str]]:
    """The tables of ``messages/<lang>.yaml`` (``messages``, and names where a language has
    them), read once and frozen.

    Raises
    ------
    TypeError
        If the bundled file is not tables of text (a packaging bug, e.g. an unquoted ``yes``
        that YAML reads as a boolean).
    """
    path = resources.files("openpcf.reports").joinpath(f"messages/{lang}.yaml")
    data = yaml.safe_load(path.read_text("utf-8"))
    tables: dict[str, Mapping[str, str]] = {}
    for name, table in data.items():
        bad = [k for k, v in table.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"reports/messages/{lang}.yaml: {name}: {bad!r} are not text")
        tables[name] = MappingProxyType(table)
    return MappingProxyType(tables)


def check_language(lang: str) -> str:
    """Return ``lang`` if the catalogue has it, else raise :class:`UnknownLanguageError`."""
    if lang not in LANGUAGES:
        raise UnknownLanguageError(
            f"unknown report language {lang!r}; use one of {', '.join(LANGUAGES)} "
            "(en: English, zh: Simplified Chinese)"
        )
    return lang


def messages(lang: str) -> Mapping[str, str]:
    """The read-only catalogue of one language (raises :class:`UnknownLanguageError`)."""
    return _catalogue(check_language(lang))["messages"]


#: Chinese names of the gas flows (English names come from :mod:`openpcf.methods.gases`).
GAS_NAMES_ZH: Mapping[str, str] = _catalogue("zh")["gas_names"]

#: Chinese names of the GWP sets (English names come from :mod:`openpcf.methods.gwp`).
GWP_NAMES_ZH: Mapping[str, str] = _catalogue("zh")["gwp_names"]

#: Chinese names of the PACT declared units.
DECLARED_UNITS_ZH: Mapping[str, str] = _catalogue("zh")["declared_units"]
