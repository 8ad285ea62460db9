"""Data exchange: PACT ProductFootprints out (:mod:`.pact`), supplier footprints in
(:mod:`.supplier`), and validation against the PACT OpenAPI schemas (:mod:`.schema`).

Submodules are imported on use, so that the model compiler can import
:mod:`openpcf.exchange.supplier` without pulling in the calculation service.
"""
