"""EU CBAM: embedded emissions of goods, default values, and the operator's communication.

Public API::

    from openpcf.cbam import (
        load_installation, calculate_installation, build_communication, write_xlsx, read_xlsx,
        default_value, markup_percent, classify, read_imports_csv, assess_imports,
    )

    result = calculate_installation(load_installation("plant.yaml"))
    communication = build_communication(result)          # JSON-ready dict
    write_xlsx(communication, Path("communication.xlsx"))  # Summary_Communication layout
    default_value("7208 39 00", "CN", 2026).total_with_markup   # 3.5057 t CO2e/t

See docs/cbam.md for the rules, formulas, sources and their verification tags.
"""

from __future__ import annotations

from openpcf.cbam.calculation import calculate_installation
from openpcf.cbam.communication import build_communication
from openpcf.cbam.defaults import DefaultValue, default_value
from openpcf.cbam.goods import AggregatedGood, CbamGood, aggregated_good, classify
from openpcf.cbam.imports import ImportLine, ImportsAssessment, assess_imports, read_imports_csv
from openpcf.cbam.loading import LoadedInstallation, load_installation
from openpcf.cbam.markup import markup_percent
from openpcf.cbam.results import CbamResult, ProcessResult, ProductResult
from openpcf.cbam.schema import Installation
from openpcf.cbam.xlsx import read_xlsx, write_xlsx

__all__ = [
    "AggregatedGood",
    "CbamGood",
    "CbamResult",
    "DefaultValue",
    "ImportLine",
    "ImportsAssessment",
    "Installation",
    "LoadedInstallation",
    "ProcessResult",
    "ProductResult",
    "aggregated_good",
    "assess_imports",
    "build_communication",
    "calculate_installation",
    "classify",
    "default_value",
    "load_installation",
    "markup_percent",
    "read_imports_csv",
    "read_xlsx",
    "write_xlsx",
]
