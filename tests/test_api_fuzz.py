"""Property-based fuzzing of the host with schemathesis against the app's own OpenAPI.

Bounded (25 examples per operation, no deadline), marked ``slow``. Every generated request,
with a valid bearer token and without one, must get a non-5xx answer with a status code the
app's OpenAPI declares. The HTTPS-only middleware is off here (schemathesis talks http:// to
the ASGI app; refusing plain HTTP is tested elsewhere). SQLite only: routes and error handling
are the same on both backends, and the data layer is covered by the other modules.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from fixtures.api_support import seed
from openpcf.api import HostConfig, create_app
from openpcf.db import migrate
from openpcf.db.engine import make_engine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'fuzz.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    seeded = seed(engine)
    # The HTTPS-only middleware is left out here: schemathesis loads and calls the app over
    # http://; refusing plain HTTP is tested in test_api_v3/v2 and test_api_https.
    config = HostConfig(home=folder, run_sender=False, require_https=False)
    app = create_app(engine=engine, config=config)
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as http:
        answer = http.post(
            "/auth/token", auth=seeded.creds["A"], data={"grant_type": "client_credentials"}
        )
        token = answer.json()["access_token"]
    yield app, token
    engine.dispose()


def test_no_server_errors(fuzz_state: tuple[object, str]) -> None:
    app, token = fuzz_state
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case: schemathesis.Case) -> None:
            for headers in ({"authorization": f"Bearer {token}"}, {}):
                case.call_and_validate(headers=headers, checks=checks)

        run()
