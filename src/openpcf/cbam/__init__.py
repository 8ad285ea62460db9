"""EU CBAM: embedded emissions of goods, default values, and the operator's communication.

Public API::

    from openpcf.cbam import (
        load_installation, calculate_installation, build_communication, write_xlsx, read_xlsx,
        default_value, markup_percent, classify, read_imports_csv, assess_imports,
        cbam_factor,
    )

    result = calculate_installation(load_installation("plant.yaml"))
    communication = build_communication(result)          # JSON-ready dict
    write_xlsx(communication, Path("communication.xlsx"))  # the Commission's template, filled
    default_value("7208 39 00", "CN", 2026).total_with_markup   # 3.5057 t CO2e/t
    cbam_factor(2026).value                                # 0.975 (Dir. 2003/87/EC 10a(1a))

See docs/cbam.md for the rules, formulas, sources and their verification tags.
"""

from __future__ import annotations

from openpcf.cbam.calculation import calculate_installation
from openpcf.cbam.communication import build_communication
from openpcf.cbam.defaults import DefaultValue, default_value
from openpcf.cbam.free_allocation import Adjustment, Factor, adjustment, cbam_factor, cscf
from openpcf.cbam.goods import AggregatedGood, CbamGood, aggregated_good, classify
from openpcf.cbam.imports import ImportLine, ImportsAssessment, assess_imports, read_imports_csv
from openpcf.cbam.loading import LoadedInstallation, load_installation
from openpcf.cbam.markup import markup_percent
from openpcf.cbam.results import CbamResult, ProcessResult, ProductResult
from openpcf.cbam.schema import Installation
from openpcf.cbam.xlsx import TEMPLATE_MAP, read_xlsx, template_path, write_xlsx

__all__ = [
    "TEMPLATE_MAP",
    "Adjustment",
    "AggregatedGood",
    "CbamGood",
    "CbamResult",
    "DefaultValue",
    "Factor",
    "ImportLine",
    "ImportsAssessment",
    "Installation",
    "LoadedInstallation",
    "ProcessResult",
    "ProductResult",
    "adjustment",
    "aggregated_good",
    "assess_imports",
    "build_communication",
    "calculate_installation",
    "cbam_factor",
    "classify",
    "cscf",
    "default_value",
    "load_installation",
    "markup_percent",
    "read_imports_csv",
    "read_xlsx",
    "template_path",
    "write_xlsx",
]
