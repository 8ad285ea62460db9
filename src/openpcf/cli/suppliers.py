"""``openpcf suppliers``: ask suppliers for primary data and use their answers.

The commands live in one module per subject and register themselves here: requests and
coverage (:mod:`openpcf.cli.supplier_requests`), questionnaire workbooks and their answers
(:mod:`openpcf.cli.supplier_answers`), EPDs (:mod:`openpcf.cli.supplier_epd`).
"""

from __future__ import annotations

import typer

from openpcf.cli import supplier_answers, supplier_epd, supplier_invite, supplier_requests

app = typer.Typer(
    help="Ask suppliers for primary data (PACT or questionnaire workbooks), import their "
    "answers and EPDs, and see the primary-data coverage of a product.",
    no_args_is_help=True,
)
for module in (supplier_requests, supplier_answers, supplier_epd, supplier_invite):
    module.register(app)
