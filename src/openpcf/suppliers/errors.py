"""Errors of supplier data: bad questionnaire answers (and the other supplier inputs).

Part of the one error tree (:mod:`openpcf.errors`): every class here is an
:class:`~openpcf.errors.InputError`, so the CLI exits 2 and the API answers 400.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from openpcf.errors import InputError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an answered workbook: where (sheet and cell) and why."""

    sheet: str
    cell: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{where}: {self.reason}"


class QuestionnaireError(InputError):
    """An answered questionnaire workbook is refused; ``problems`` lists **every** problem found.

    ``request_id`` and ``token`` are what the workbook's metadata sheet says, when it could be
    read: the import service checks them first, so that someone without the request's token
    learns nothing about the request or what its workbook should hold.
    """

    def __init__(
        self,
        name: str,
        problems: Sequence[Problem],
        *,
        request_id: uuid.UUID | None = None,
        token: str | None = None,
    ) -> None:
        self.name = name
        self.problems = tuple(problems)
        self.request_id = request_id
        self.token = token
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{name}: the answer is refused ({count} problem{'s' if count != 1 else ''}); "
            f"correct the workbook and send it again:\n{lines}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild,
            (self.name, self.problems, self.request_id, self.token, self.args),
        )


def _rebuild(
    name: str,
    problems: Sequence[Problem],
    request_id: uuid.UUID | None,
    token: str | None,
    args: tuple[object, ...],
) -> QuestionnaireError:
    error = QuestionnaireError(name, problems, request_id=request_id, token=token)
    error.args = args
    return error


class AnswerRefusedError(InputError):
    """An answer that is well-formed but cannot be taken for its request (the request was
    answered already, accepted, rejected or cancelled)."""
