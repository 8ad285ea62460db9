"""Issue 11, item 6: what one file, zip, expression, filter, event or pulled page can cost.

Each test feeds the smallest input that used to cost without bound (memory, stack or disk)
and checks that it is refused with an error of the error tree, naming the limit.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.db.repositories.events import EventQuota, record_event
from openpcf.errors import ModelFileError, ParameterError, QuotaExceededError
from openpcf.exchange.client import PactClient
from openpcf.exchange.errors import BadRequestError, PactRemoteError
from openpcf.files import jsonfile, yamlfile
from openpcf.files.bounded import read_bounded
from openpcf.io.archive import Archive, ArchiveError, ZipLimits
from openpcf.io.jsonld import read_jsonld
from openpcf.model.parameters import evaluate
from openpcf.services.pact.filter import parse_filter

FIXTURES = Path(__file__).parent / "fixtures"

#: The 272-byte model of the security review: nine levels of nine aliases, 9**7 = 4.8 million
#: strings once expanded (1.3 GB of Python objects).
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


# --- YAML -----------------------------------------------------------------------------------


def test_item6_yaml_alias_expansion_is_bounded(tmp_path: Path) -> None:
    """The billion-laughs file is refused after ALIAS_BUDGET repeated nodes (well under 1 s
    here; 13 s and 1.3 GB before, then a schema error)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"bomb\.yaml:\d+: aliases .* repeat more than"):
        yamlfile.load(path)
    assert time.perf_counter() - start < 10  # generous: bounded, not a benchmark


def test_item6_yaml_aliases_within_the_budget_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("q: &q {reliability: 2}\nx: [*q, *q, *q]\n", encoding="utf-8")
    assert yamlfile.load(path).data["x"] == [{"reliability": 2}] * 3


def test_item6_recursive_yaml_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [1, *a]\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"loop\.yaml:1: recursive alias"):
        yamlfile.load(path)


def test_item6_deep_yaml_nesting_is_refused(tmp_path: Path) -> None:
    """5,000 nested flow sequences were a RecursionError in PyYAML's composer."""
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="nested deeper than 64 levels"):
        yamlfile.load(path)


def test_item6_yaml_file_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (yamlfile.MAX_YAML_BYTES // 10 + 1))
    with pytest.raises(ModelFileError, match=r"big\.yaml: larger than 8 MiB"):
        yamlfile.load(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_item6_endless_file_is_read_up_to_the_bound() -> None:
    with pytest.raises(ModelFileError, match="larger than"):
        yamlfile.load(Path("/dev/zero"))
    with pytest.raises(ValueError, match="larger than 1 KiB"):
        read_bounded(Path("/dev/zero"), limit=1024)


# --- JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 64"),
        ("[" * 65 + "]" * 65, "nested deeper than 64"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("[Infinity]", "Infinity is not a JSON number"),
        ("[1e400]", "beyond the range of a double"),
        ('{"a": "x\\u0000y"}', "NUL character"),
        ('{"\\ud800": 1}', "lone surrogate"),
        ('"\\udfff"', "lone surrogate"),
    ],
)
def test_item6_json_is_parsed_with_bounded_depth_and_storable_values(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        jsonfile.loads(text)


def test_item6_json_within_bounds_is_read() -> None:
    doc = {"a": [[[["deep enough"]]]], "n": 1.5e300, "s": "\u00e9\U0001f600"}
    assert jsonfile.loads(json.dumps(doc).encode()) == doc


# --- zips of LCI databases ------------------------------------------------------------------


def _zip(target: Path, members: dict[str, bytes], *, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(target, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return target


def test_item6_zip_member_count_is_bounded(tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", {f"processes/{i}.xml": b"<a/>" for i in range(5)})
    with pytest.raises(ArchiveError, match="5 members, more than 4"):
        Archive(path, limits=ZipLimits(members=4))


def test_item6_zip_member_size_is_bounded(tmp_path: Path) -> None:
    path = _zip(tmp_path / "big.zip", {"processes/a.xml": b"<a>" + b"x" * 3000 + b"</a>"})
    with pytest.raises(ArchiveError, match=r"member processes/a\.xml is 0 MiB uncompressed"):
        Archive(path, limits=ZipLimits(member_bytes=1000))


def test_item6_zip_total_size_is_bounded(tmp_path: Path) -> None:
    path = _zip(tmp_path / "two.zip", {"a.xml": b"1" * 600, "b.xml": b"2" * 600})
    with pytest.raises(ArchiveError, match="uncompressed in all"):
        Archive(path, limits=ZipLimits(total_bytes=1000))


def test_item6_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    """64 MiB of zeros deflate to about 64 kB, a ratio of about 1,000 (real data: at most 54)."""
    path = _zip(tmp_path / "bomb.zip", {"processes/bomb.json": bytes(64 * 1024 * 1024)})
    assert path.stat().st_size < 200_000
    with pytest.raises(ArchiveError, match=r"inflates 1,0[0-9][0-9] times"):
        Archive(path)


def test_item6_jsonld_importer_uses_the_same_bounds(tmp_path: Path) -> None:
    """The JSON-LD importer had its own unbounded zip reader; it now goes through Archive."""
    folder = FIXTURES / "jsonld_small" / "processes"
    members = {f"processes/{p.name}": p.read_bytes() for p in folder.iterdir()}
    members["flows/bomb.json"] = bytes(64 * 1024 * 1024)
    path = _zip(tmp_path / "bomb.zip", members)
    with pytest.raises(ArchiveError, match="looks like a zip bomb"):
        read_jsonld(path)


# --- expressions and filters ----------------------------------------------------------------


def test_item6_long_parameter_expression_is_refused() -> None:
    """100,000 unary minus signs were a MemoryError in Python's parser."""
    with pytest.raises(ParameterError, match="100,001 characters long; at most 1000"):
        evaluate("-" * 100_000 + "1", {}, where="p")


def test_item6_deep_parameter_expression_is_refused() -> None:
    with pytest.raises(ParameterError, match="nested deeper than 50 levels"):
        evaluate("-" * 200 + "1", {}, where="p")
    assert evaluate("-" * 40 + "2", {}, where="p") == 2.0


def test_item6_deep_v2_filter_is_a_bad_request() -> None:
    """The parser recursed once per parenthesis: 2,000 of them were a RecursionError (500)."""
    deep = "(" * 2000 + "created eq '2024'" + ")" * 2000
    with pytest.raises(BadRequestError, match="nested deeper than 32 levels"):
        parse_filter(deep)
    with pytest.raises(BadRequestError, match="longer than 4096 characters"):
        parse_filter("created eq '" + "x" * 5000 + "'")
    assert parse_filter("(" * 30 + "created eq '2024'" + ")" * 30).comparisons


# --- event storage per client ---------------------------------------------------------------


def _client(engine: Engine) -> str:
    with session_scope(engine) as s:
        org = repo.create_organisation(s, name="Quota Co")
        return repo.create_client(s, organisation=org, name="Q").client_id


def _record(engine: Engine, client_id: str, n: int, quota: EventQuota, size: int = 10) -> None:
    with session_scope(engine) as s:
        client = repo.get_client(s, client_id=client_id)
        record_event(
            s,
            event_id=f"e{n}",
            source="//q.example/3/events",
            type="t",
            payload={"pad": "x" * size},
            client=client,
            received=dt.datetime(2025, 1, 1, 12, n, tzinfo=dt.UTC),
            quota=quota,
        )


def test_item6_stored_events_per_client_have_a_count_quota(engine: Engine) -> None:
    """Three events at 12:00, 12:01, 12:02 under a quota of 3 a day: the fourth (12:03) is
    refused, retry when the first leaves the window: 24 h - 3 min = 86,220 s."""
    client_id = _client(engine)
    quota = EventQuota(events=3)
    for n in range(3):
        _record(engine, client_id, n, quota)
    with pytest.raises(QuotaExceededError, match="has stored 3 events") as caught:
        _record(engine, client_id, 3, quota)
    assert caught.value.retry_after == pytest.approx(86_220)


def test_item6_stored_events_per_client_have_a_byte_quota(engine: Engine) -> None:
    client_id = _client(engine)
    quota = EventQuota(bytes=5000)
    _record(engine, client_id, 0, quota, size=3000)
    with pytest.raises(QuotaExceededError, match="at most 2000 events or 5,000 bytes"):
        _record(engine, client_id, 1, quota, size=3000)
    _record(engine, client_id, 2, quota, size=100)  # what still fits is stored


# --- pact pull ------------------------------------------------------------------------------


def _host(handler: object, **kwargs: object) -> PactClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return PactClient("https://s.example", client_id="a", client_secret="b", http=http, **kwargs)  # type: ignore[arg-type]


def _token_or(page: httpx.Response):  # type: ignore[no-untyped-def]
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
        if request.url.path == "/3/footprints":
            return page
        return httpx.Response(404)

    return handler


def test_item6_pulled_response_size_is_bounded() -> None:
    big = httpx.Response(200, content=b'{"data": [' + b'{"id": "x"},' * 10_000 + b"{}]}")
    client = _host(_token_or(big), max_response_bytes=64 * 1024)
    with pytest.raises(PactRemoteError, match="larger than 0 MiB; stopped reading"):
        list(client.list_footprints())


def test_item6_pulled_chunked_response_without_length_is_bounded() -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"data": ['
        while True:
            yield b'{"id": "x"},' * 1000

    endless = httpx.Response(200, content=chunks())
    client = _host(_token_or(endless), max_response_bytes=1024 * 1024)
    with pytest.raises(PactRemoteError, match="stopped reading"):
        list(client.list_footprints())


def test_item6_pagination_that_loops_is_stopped() -> None:
    page = httpx.Response(
        200,
        json={"data": [{"id": "x"}]},
        headers={"link": '<https://s.example/3/footprints>; rel="next"'},
    )
    with pytest.raises(PactRemoteError, match="links back to a page already fetched"):
        list(_host(_token_or(page)).list_footprints())


def test_item6_page_and_footprint_counts_are_bounded() -> None:
    pages = iter(range(10**6))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
        n = next(pages)
        return httpx.Response(
            200,
            json={"data": [{"id": str(n)}] * 3},
            headers={"link": f'<https://s.example/3/footprints?offset={n + 1}>; rel="next"'},
        )

    with pytest.raises(PactRemoteError, match="more than 5 pages"):
        list(_host(handler).list_footprints(max_pages=5))
    with pytest.raises(PactRemoteError, match="more than 10 footprints"):
        list(_host(handler).list_footprints(max_footprints=10))
