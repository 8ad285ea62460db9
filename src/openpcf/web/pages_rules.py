"""The rule check page: paste a model, pick a rule set, see the findings and the clauses.

``GET /rule-check`` shows the form; ``POST /rule-check`` checks the model
with :func:`openpcf.services.web_rules.check_model_text` (bundled data only, like the API's
``POST /rules/{id}/check``). The form posts with htmx (``hx-post``), which swaps the panel of
form and result; without JavaScript the same form posts normally and the whole page comes
back. Either way the model text stays in the textarea and each problem shows at its field
(a YAML error with its line).

Status codes: a plain post with field errors answers 400; an htmx post answers 200 with the
errors in the panel, because htmx swaps no 4xx answer by default. A body larger than
:data:`MAX_BODY` is refused (413) before it is read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from openpcf.services.web_rules import (
    MAX_MODEL_BYTES,
    FieldError,
    RuleCheck,
    check_model_text,
    rule_set_choices,
)
from openpcf.web.auth import CsrfChecked, WebUser, require_roles, web_state
from openpcf.web.render import render
from openpcf.web.uploads import bounded

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]

#: The largest form body: the model percent-encoded (up to 3 bytes per byte) and the rest.
MAX_BODY = 3 * MAX_MODEL_BYTES + 64 * 1024


def _context(
    request: Request,
    *,
    model_text: str = "",
    chosen: str = "",
    outcome: RuleCheck | None = None,
) -> dict[str, Any]:
    errors: tuple[FieldError, ...] = outcome.errors if outcome else ()
    result = outcome.conformance if outcome else None
    findings = [
        {**f, "clause": c["clause"]}
        for c in (result or {}).get("clauses", [])
        for f in c["findings"]
    ]
    return {
        "choices": rule_set_choices(_folders(request)),
        "chosen": chosen,
        "model_text": model_text,
        "max_chars": MAX_MODEL_BYTES,
        "model_errors": [e for e in errors if e.field == "model"],
        "rules_errors": [e for e in errors if e.field == "rules"],
        "result": result,
        "findings": findings,
    }


def _folders(request: Request) -> list[Any]:
    rules_dir = web_state(request).home / "rules"
    return [rules_dir] if rules_dir.is_dir() else []


@router.get("/rule-check", response_class=HTMLResponse)
def rules_form(request: Request, user: Engineer, rules: str = "") -> HTMLResponse:
    del user
    return render(request, "rules_check.html.j2", _context(request, chosen=rules[:200]))


@router.post(
    "/rule-check",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_BODY), CsrfChecked],
)
async def rules_check(request: Request, user: Engineer) -> HTMLResponse:
    del user
    form = await request.form()
    model = form.get("model")
    rules = form.get("rules")
    text = model.replace("\r\n", "\n") if isinstance(model, str) else ""
    chosen = rules.strip()[:200] if isinstance(rules, str) else ""
    folders = _folders(request)
    outcome = await run_in_threadpool(check_model_text, text, rules=chosen, folders=folders)
    context = _context(request, model_text=text, chosen=chosen, outcome=outcome)
    fragment = request.headers.get("hx-request") == "true"
    status = 400 if outcome.errors and not fragment else 200
    template = "rules_panel.html.j2" if fragment else "rules_check.html.j2"
    return await run_in_threadpool(render, request, template, context, status)
