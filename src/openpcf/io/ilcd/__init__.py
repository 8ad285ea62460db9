"""Read an ILCD data set collection (e.g. TianGong LCA Data) into an :class:`Inventory`.

Layout: a folder or a zip holding ``processes/``, ``flows/``, ``flowproperties/`` and
``unitgroups/`` (one XML data set per file, named ``<uuid>.xml``), possibly one or more folders
deep (TianGong's zip has them under ``tiangong_lca_data/``): the reader uses the shallowest
folder that holds ``processes/``.

What is read (see ``docs/formats.md`` for the full list):

- processes: UUID, name (``baseName`` + ``treatmentStandardsRoutes`` + ``mixAndLocationTypes``
  + ``functionalUnitFlowProperties``, joined with ", " as openLCA does; English, else Chinese,
  with the Chinese name in ``name_zh``), location, classification, the quantitative reference
  (``referenceToReferenceFlow``, data set internal ids), exchanges (``resultingAmount``,
  else ``meanAmount``) and the ``allocatedFraction`` of multi-output processes;
- flows: name, type, CAS, elementary-flow category path (the compartment) and the reference unit
  of the reference flow property (flow property -> unit group -> reference unit).

Units. ILCD gives every exchange amount in the reference unit of the flow's reference flow
property, so amounts are taken as written. Unit names are spelled the pint way where the ILCD
name is not (``Item(s)`` -> ``piece``, ``t*km`` -> ``tkm``, ``sqm`` -> ``m2``); names pint
cannot read are kept as written and reported once per flow as ``"unknown-unit"``.

Greenhouse gases. Elementary flows are mapped by UUID first (:data:`EF_GHG_FLOWS`, the EF 3.x
and ILCD reference flows of the climate-change LCIA methods shipped with TianGong), then by
name, CAS and category through :func:`openpcf.io.elementary.gas_for`. ILCD writes the
qualifier in parentheses (``carbon dioxide (biogenic)``); it is passed on as ``", biogenic"``.
Fossil CO2 as a *resource from air* (EF's CCS/DAC flow, factor 0) is not counted and is
reported as ``unmapped-elementary``.

Design note: bad records never raise (see :mod:`openpcf.io.inventory`): an exchange whose flow
is missing, whose ``refObjectId`` is not a UUID, or whose amount or direction is unreadable is
dropped with a :class:`Problem` naming the file and the exchange's ``dataSetInternalID``. Only
an input with no ``processes/`` folder or no readable process raises :class:`IlcdError`.
"""

from openpcf.io.ilcd.dataset import is_uuid
from openpcf.io.ilcd.greenhouse_gases import EF_GHG_FLOWS, EF_ZERO_CO2_FROM_AIR, ghg_name
from openpcf.io.ilcd.reader import IlcdError, Progress, read_ilcd
from openpcf.io.ilcd.units import UNIT_NAMES, normalise_unit

__all__ = [
    "EF_GHG_FLOWS",
    "EF_ZERO_CO2_FROM_AIR",
    "UNIT_NAMES",
    "IlcdError",
    "Progress",
    "ghg_name",
    "is_uuid",
    "normalise_unit",
    "read_ilcd",
]
