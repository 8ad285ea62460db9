"""Data exchange: PACT ProductFootprints out (:mod:`.pact`), supplier footprints in
(:mod:`.supplier`), and validation of PACT footprints (:mod:`.schema`, with OpenPCF's own
model of the PACT data model in :mod:`.footprint_schema`).

Submodules are imported on use, so that the model compiler can import
:mod:`openpcf.exchange.supplier` without pulling in the calculation service.
"""
