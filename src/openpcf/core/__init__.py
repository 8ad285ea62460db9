"""The numeric core: sparse matrices, solvers and frozen results.

Names follow Heijungs & Suh, *The Computational Structure of Life Cycle Assessment* (2002):
``A`` technosphere matrix (products x activities), ``B`` intervention matrix (flows x
activities), ``f`` final demand, ``s`` scaling vector (``A s = f``), ``g`` inventory
(``g = B s``), ``C`` characterisation (indicators x flows, ``h = C g``). This package imports
numpy, scipy and pint only: no database, HTTP or settings.
"""
