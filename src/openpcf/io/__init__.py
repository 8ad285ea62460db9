"""Readers of LCI data formats (openLCA JSON-LD, ILCD, ecospold2).

Each format has one module that returns the same in-memory :class:`~openpcf.io.inventory.Inventory`;
linking it into a solvable matrix system is format-independent (:mod:`openpcf.io.linking`).
"""
