"""Recalculate compiled models with other parameter values, reusing the background's work.

A loop over parameter sets (``openpcf batch`` with a CSV of parameters, the web's scenarios)
compiles and solves one model many times; its background (the factor rows and the linked
databases) does not change with the parameters. Inside ``with recalculating():``
:func:`openpcf.model.result.solve_compiled` solves through one
:class:`~openpcf.core.engine.Recalculation`, which keeps, keyed by the background's content,
its intensities ``Λ_b``, ``Λ_l`` and the foreground's factors, and hashes each database once::

    from openpcf.model.recalculation import recalculating
    from openpcf.services.calculate import calculate

    with recalculating():
        totals = [calculate(model, overrides={"a": a}).result.total for a in (1.0, 2.0, 3.0)]

Every result is exactly the one a fresh calculation gives (``tests/test_parameter_resolve.py``).
Outside such a block nothing is kept beyond the engine's process-wide caches.

Design note: the looping caller opens the block (its life is the loop's), rather than a
process-wide keeper, because :meth:`~openpcf.core.engine.Recalculation.content_hash` trusts a
system object not to be edited in place for as long as it is kept. The block reaches
``solve_compiled`` through a context variable, so the services between the loop and the solve
(``calculate`` and its rules, cut-offs and supplier data) need no new argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from openpcf.core.engine import Recalculation

_CURRENT: ContextVar[Recalculation | None] = ContextVar("openpcf_recalculation", default=None)


@contextmanager
def recalculating(keeper: Recalculation | None = None) -> Iterator[Recalculation]:
    """Solve every compiled model in the block through ``keeper`` (a new
    :class:`~openpcf.core.engine.Recalculation` by default), which the block yields; an
    enclosing block's keeper is kept (nested loops share one)."""
    outer = _CURRENT.get()
    chosen = keeper or outer or Recalculation()
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


def current_recalculation() -> Recalculation | None:
    """The keeper of the innermost :func:`recalculating` block, or None outside one."""
    return _CURRENT.get()
