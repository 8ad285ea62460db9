"""Publishing end to end: calculate → PACT v3 document → one transaction in the database.

Runs on SQLite and PostgreSQL (``engine``/``db_url`` fixtures). two_process.yaml's footprint is
4 (steel) + 3 × 0.7252 (Hebei grid 2022) + 0.001 × 29.8 (CH4) = 6.2054 kg CO2e/kg; with
``power=4`` it is 4 + 4 × 0.7252 + 0.0298 = 6.9306.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from openpcf.cli.publish import publish as publish_command
from openpcf.cli.publish import storage_app
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import (
    ACTIVE,
    DEPRECATED,
    CalculationRecord,
    Footprint,
    FootprintKey,
    Organisation,
    Product,
)
from openpcf.exchange.criteria import FootprintFilter
from openpcf.exchange.schema import validate_footprint
from openpcf.services.publishing import publish, same_content

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"
HYDROGEN = ROOT / "examples/hydrogen_alkaline_inner_mongolia.yaml"
V3 = ROOT.parent / "shared/reference/pact/v3/openapi.yaml"
needs_v3 = pytest.mark.skipif(not V3.exists(), reason=f"PACT v3 OpenAPI not found at {V3}")

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Organisation, Product, CalculationRecord, Footprint, FootprintKey)
        }


def test_publish_two_process(engine: Engine) -> None:
    published = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    assert published.new
    assert published.deprecated is None
    assert published.document["pcf"]["pcfExcludingBiogenicUptake"] == "6.2054"
    assert published.document["created"] == "2025-03-01T00:00:00Z"
    with session_scope(engine) as s:
        fp = s.get(Footprint, published.id)
        assert fp is not None
        assert fp.status == ACTIVE
        assert fp.document == published.document
        assert fp.spec_version == "3.0.0"
        assert fp.geography_subdivision == "CN-HE"
        assert fp.validity_start == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)  # ref end (exclusive)
        assert fp.validity_end == dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
        assert fp.product.product_ids == ["urn:openpcf:product:widget"]
        assert fp.organisation.name == "Widget Co"
        record = s.get(CalculationRecord, fp.calculation_id)
        assert record is not None
        assert record.result["kg_co2e"] == pytest.approx(6.2054, rel=1e-9)
        assert record.model_sha256 == record.provenance["model_sha256"]


def test_identical_republish_stores_nothing(engine: Engine) -> None:
    first = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    before = counts(engine)
    again = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0 + dt.timedelta(days=1))
    assert not again.new
    assert again.id == first.id
    assert counts(engine) == before


def test_changed_republish_deprecates_the_old_footprint(engine: Engine) -> None:
    first = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    later = T0 + dt.timedelta(days=1)
    second = publish(
        WIDGET,
        engine=engine,
        organisation="Widget Co",
        overrides={"power": 4},
        replace_live=True,
        now=later,
    )
    assert second.new
    assert second.deprecated == first.id
    assert second.document["pcf"]["pcfExcludingBiogenicUptake"] == "6.9306"
    assert second.document["precedingPfIds"] == [str(first.id)]
    with session_scope(engine) as s:
        old = s.get(Footprint, first.id)
        assert old is not None
        assert old.status == DEPRECATED
        assert old.document["status"] == "Deprecated"
        assert old.status_changed_at == later
        assert s.scalar(select(func.count()).select_from(Product)) == 1
        assert s.scalar(select(func.count()).select_from(CalculationRecord)) == 2
    # back to the first numbers: a third footprint replacing the second, not a revival
    third = publish(WIDGET, engine=engine, organisation="Widget Co", now=later)
    assert third.new
    assert third.deprecated == second.id


def test_same_content_ignores_volatile_members() -> None:
    a = {"id": "1", "created": "x", "comment": "sha 1", "status": "Active", "pcf": {"a": "1"}}
    b = {"id": "2", "created": "y", "comment": "sha 2", "precedingPfIds": ["1"], "pcf": {"a": "1"}}
    assert same_content(a, b)
    assert not same_content(a, {**b, "pcf": {"a": "1.0"}})
    assert not same_content(a, {**b, "productDescription": "new"})


def test_failure_mid_publish_stores_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Organisation, product and calculation record are written before the footprint fails."""

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "publish_footprint", fail)  # the module publishing calls
    with pytest.raises(RuntimeError, match="disk full"):
        publish(WIDGET, engine=engine, organisation="Widget Co")
    assert set(counts(engine).values()) == {0}


def test_publish_hydrogen_example(engine: Engine) -> None:
    published = publish(HYDROGEN, engine=engine, now=T0, allow_illustrative=True)
    doc = published.document
    assert published.organisation == doc["companyName"]
    assert float(doc["pcf"]["pcfExcludingBiogenicUptake"]) > 0
    with session_scope(engine) as s:
        org = repo.get_organisation(s, name=doc["companyName"])
        client = repo.create_client(s, organisation=org).client
        product = repo.get_product(s, organisation=org, product_id=doc["productIds"][0])
        repo.grant_access(s, client=client, product=product)
        page = repo.list_footprints(
            s, client=client, filters=FootprintFilter(geographies=("cn-nm",))
        )
        assert [fp.id for fp in page.items] == [published.id]


@needs_v3
def test_stored_documents_validate_against_pact_v3(engine: Engine) -> None:
    first = publish(WIDGET, engine=engine, organisation="Widget Co", now=T0)
    publish(
        WIDGET,
        engine=engine,
        organisation="Widget Co",
        overrides={"power": 4},
        replace_live=True,
        now=T0,
    )
    publish(HYDROGEN, engine=engine, now=T0, allow_illustrative=True)
    with session_scope(engine) as s:
        documents = [fp.document for fp in s.scalars(select(Footprint))]
    assert len(documents) == 3
    assert any(d["id"] == str(first.id) and d["status"] == "Deprecated" for d in documents)
    for doc in documents:
        assert validate_footprint(doc, openapi_path=V3) == []


# --------------------------------------------------------------------------------------------
# command line


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """``publish`` and the ``storage`` group as the main CLI would register them."""
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_DATABASE_URL", db_url)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command("publish")(publish_command)
    app.add_typer(storage_app, name="storage")
    yield app
    get_settings.cache_clear()


def test_cli_publish_share_and_read(cli: typer.Typer, db_url: str) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["storage", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "schema at revision" in upgraded.output

    first = runner.invoke(cli, ["publish", str(WIDGET), "--org", "Widget Co", "--json"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert out["new"] is True
    assert out["document"]["pcf"]["pcfExcludingBiogenicUptake"] == "6.2054"

    again = runner.invoke(cli, ["publish", str(WIDGET), "--org", "Widget Co"])
    assert again.exit_code == 0, again.output
    assert "Unchanged" in again.stdout

    changed = runner.invoke(
        cli, ["publish", str(WIDGET), "--org", "Widget Co", "-p", "power=4", "--replace-live"]
    )
    assert changed.exit_code == 0, changed.output
    assert "6.9306" in changed.stdout
    assert f"replaces footprint {out['id']}" in changed.stdout

    made = runner.invoke(cli, ["storage", "create-client", "Widget Co", "--json"])
    assert made.exit_code == 0, made.output
    credentials = json.loads(made.stdout)
    assert credentials["scopes"] == ["footprint:list", "footprint:read"]

    granted = runner.invoke(
        cli, ["storage", "grant", credentials["client_id"], "URN:openpcf:product:widget"]
    )
    assert granted.exit_code == 0, granted.output

    from openpcf.db.engine import make_engine

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            client = repo.authenticate_client(
                s, client_id=credentials["client_id"], secret=credentials["client_secret"]
            )
            assert client is not None
            page = repo.list_footprints(s, client=client)
            assert [fp.document["status"] for fp in page.items] == ["Deprecated", "Active"]
    finally:
        engine.dispose()


def test_cli_errors_are_openpcf_errors(cli: typer.Typer) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["storage", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["storage", "create-client", "Nobody"])
    assert isinstance(result.exception, NotFoundError)
    assert "no organisation 'Nobody'" in str(result.exception)
