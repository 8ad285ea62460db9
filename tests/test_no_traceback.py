"""Issue 11, item 12: no traceback ever reaches a user of the CLI.

The samples of the security review, one test each, then a property-based fuzz of the CLI
entry point (:func:`openpcf.cli.main.run`, in-process) over commands, options and generated
input files, which fails on any traceback or on exit code 70 (a bug).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.in_process import openpcf
from openpcf.cli.main import EXIT_BUG, EXIT_OS
from openpcf.db.repositories.footprints import add_years
from openpcf.exchange.catenax import CatenaXMappingError, _plus_three_years

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = FIXTURES / "two_process.yaml"


def clean(out: Any) -> None:
    """No traceback and no bug exit code, whatever else happened."""
    assert "Traceback" not in out.stderr + out.stdout, out.stderr[-2000:]
    assert out.returncode != EXIT_BUG, out.stderr


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``OPENPCF_HOME`` for one test (the settings are cached: cleared around it)."""
    from openpcf.settings import get_settings

    folder = tmp_path / "home"
    monkeypatch.setenv("OPENPCF_HOME", str(folder))
    monkeypatch.delenv("OPENPCF_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def _model(tmp_path: Path, old: str, new: str) -> Path:
    text = MODEL.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "model.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- samples of the review ------------------------------------------------------------------


def test_item12_recursive_yaml_alias(tmp_path: Path) -> None:
    path = _model(tmp_path, "sheet_mass: 2", "sheet_mass: &m [1, *m]")
    out = openpcf("calc", str(path))
    clean(out)
    assert out.returncode == 2
    assert "recursive alias" in out.stderr


def test_item12_rich_markup_in_a_product_name_is_printed_as_written(tmp_path: Path) -> None:
    """``[/red]`` made rich raise MarkupError in the table (and ``[bold]`` changed styles)."""
    path = _model(tmp_path, "  name: Widget\n", "  name: 'Widget [/red] [bold] [link=x]'\n")
    out = openpcf("calc", str(path))
    clean(out)
    assert out.returncode == 0
    assert "Widget [/red] [bold] [link=x]" in out.stdout


def test_item12_markup_in_factor_names_and_notes(tmp_path: Path) -> None:
    factors = tmp_path / "mine.csv"
    factors.write_text(
        "id,name,unit,category,geography,year,source,licence,illustrative,notes,CO2-fossil\n"
        "my.x,X [/red],kg,material,CN,2024,me [bold],CC0,true,[/] note,1\n",
        encoding="utf-8",
    )
    path = _model(
        tmp_path,
        "{process: sheet, amount: sheet_mass, unit: kg}",
        "{factor: my.x, amount: 1, unit: kg}",
    )
    out = openpcf("calc", str(path), "--factors", str(factors))
    clean(out)
    assert out.returncode == 0, out.stderr
    assert "[/] note" in out.stdout
    search = openpcf("factors", "search", "X", "--factors", str(factors))
    clean(search)


def _bad_crc_zip(tmp_path: Path) -> Path:
    """The JSON-LD test export, stored uncompressed, with one byte of one member changed."""
    path = tmp_path / "bad.zip"
    folder = FIXTURES / "jsonld_small"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
    data = bytearray(path.read_bytes())
    member = next((folder / "processes").iterdir()).read_bytes()
    at = bytes(data).index(member) + len(member) // 2
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def test_item12_zip_with_a_bad_crc(tmp_path: Path, home: Path) -> None:
    out = openpcf("import", "jsonld", str(_bad_crc_zip(tmp_path)), "--name", "bad")
    clean(out)
    assert out.returncode == 2
    assert "cannot be read (Bad CRC-32" in out.stderr
    assert "download or export it again" in out.stderr


@pytest.fixture
def stored_db(home: Path) -> Path:
    out = openpcf("import", "jsonld", str(FIXTURES / "jsonld_small"), "--name", "t12")
    assert out.returncode == 0, out.stderr
    return home / "databases" / "t12"


def test_item12_corrupt_database_meta_json(stored_db: Path) -> None:
    version = next(p for p in stored_db.iterdir() if p.is_dir())
    (version / "meta.json").write_text("{not json", encoding="utf-8")
    for args in (("db", "show", "t12"), ("db", "list")):
        out = openpcf(*args)
        clean(out)
        assert out.returncode == 2
        assert "meta.json: the stored database is damaged" in out.stderr
        assert "import it again" in out.stderr


def test_item12_missing_database_current(stored_db: Path) -> None:
    (stored_db / "CURRENT").unlink()
    version = next(p.name for p in stored_db.iterdir() if p.is_dir())
    out = openpcf("db", "show", "t12")
    clean(out)
    assert out.returncode == 2
    out = openpcf("db", "search", "t12", "steel")
    clean(out)
    assert out.returncode == 2
    assert "CURRENT: missing or unreadable" in out.stderr
    assert f"t12@{version}" in out.stderr
    assert openpcf("db", "search", f"t12@{version}", "steel").returncode == 0


def test_item12_truncated_database_matrix(stored_db: Path) -> None:
    version = next(p for p in stored_db.iterdir() if p.is_dir())
    (version / "intensities.npz").write_bytes(b"PK\x03\x04 truncated")
    out = openpcf("db", "footprints", "t12")
    clean(out)
    assert out.returncode == 2
    assert "intensities.npz: the stored database is damaged" in out.stderr


def _disk_full(target: Path):  # type: ignore[no-untyped-def]
    """An ``atomic_write`` that fails like a full disk for ``target`` (no file name, as the
    kernel's ENOSPC from write() has none) and writes everything else."""
    from openpcf.files import durable

    real = durable.atomic_write

    def write(path: Path, data: bytes, **kwargs: Any) -> None:
        if Path(path) == target:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data, **kwargs)

    return write


def test_item12_disk_full_in_package(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpcf.services import packaging

    output = tmp_path / "out.zip"
    monkeypatch.setattr(packaging, "atomic_write", _disk_full(output))
    out = openpcf("package", str(MODEL), "--output", str(output))
    clean(out)
    assert out.returncode == EXIT_OS
    assert "No space left on device; free some space or write to another disk" in out.stderr
    assert not output.exists()


def test_item12_disk_full_in_certificate_issue(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpcf.files import durable

    assert openpcf("keys", "create").returncode == 0
    output = tmp_path / "cert.jwt"
    monkeypatch.setattr(durable, "atomic_write", _disk_full(output))
    out = openpcf("certificate", "issue", str(MODEL), "--output", str(output))
    clean(out)
    assert out.returncode == EXIT_OS
    assert "No space left on device" in out.stderr


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="no /proc")
def test_item12_unwritable_location(tmp_path: Path, home: Path) -> None:
    """/proc takes no new files, even for root: the message names the file and the reason."""
    for args in (
        ("calc", str(MODEL), "--format", "json", "--output", "/proc/x.json"),
        ("package", str(MODEL), "--output", "/proc/x.zip"),
    ):
        out = openpcf(*args)
        clean(out)
        assert out.returncode == EXIT_OS
        assert "/proc/" in out.stderr


def test_item12_valid_days_beyond_any_date(tmp_path: Path, home: Path) -> None:
    output = str(tmp_path / "c.jwt")
    out = openpcf("certificate", "issue", str(MODEL), "-o", output, "--valid-days", "100000000")
    clean(out)
    assert out.returncode == 2
    assert "--valid-days" in out.stderr


def test_item12_validity_past_year_9999_is_an_input_error(home: Path) -> None:
    from openpcf.certify import KeyStore, issue_certificate
    from openpcf.errors import InputError

    keys = KeyStore(home / "keys")
    keys.create()
    footprint = json.loads((FIXTURES / "pact_supplier_board.json").read_text(encoding="utf-8"))
    with pytest.raises(InputError, match="ends after the year 9999"):
        issue_certificate(footprint, keys=keys, valid_for=dt.timedelta(days=3_000_000))


def test_item12_year_9999_reference_period_in_pact_output(tmp_path: Path) -> None:
    path = _model(tmp_path, "end: 2024-12-31", "end: 9999-12-31")
    out = openpcf("calc", str(path), "--format", "pact")
    clean(out)
    assert out.returncode == 2
    assert "end the period by 9999-12-30" in out.stderr
    path = _model(tmp_path, "end: 2024-12-31", "end: 9999-12-30")
    out = openpcf("calc", str(path), "--format", "pact")
    clean(out)
    assert json.loads(out.stdout)["pcf"]["referencePeriodEnd"] == "9999-12-31T00:00:00Z"


def test_item12_validity_after_year_9999_is_clamped_or_refused() -> None:
    late = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    assert add_years(late, 3) == dt.datetime.max.replace(tzinfo=dt.UTC)
    with pytest.raises(CatenaXMappingError, match="too late"):
        _plus_three_years("9999-12-31T00:00:00Z", "fp")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_item12_devices_and_proc_files_as_inputs(tmp_path: Path, home: Path) -> None:
    """Every input read whole is read up to a bound: /dev/zero is "too large", not a hang."""
    zero_json, zero_csv = tmp_path / "zero.json", tmp_path / "zero.csv"
    zero_json.symlink_to("/dev/zero")
    zero_csv.symlink_to("/dev/zero")
    cases = [
        ("calc", "/dev/zero"),
        ("validate", "/proc/self/status"),
        ("validate", "/proc/self/mem"),
        ("calc", str(MODEL), "--factors", str(zero_csv)),
        ("certificate", "issue", str(zero_json), "-o", str(tmp_path / "c.jwt")),
        ("certificate", "verify", "/dev/zero"),
        ("import", "jsonld", "/dev/zero", "--name", "z"),
        ("calc", "/proc"),
    ]
    for args in cases:
        out = openpcf(*args)
        clean(out)
        assert out.returncode in (1, 2, 10, EXIT_OS), (args, out.stderr)


def test_item12_a_bug_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any exception that is not an OpenPCFError is a bug: one line, exit 70; with
    ``OPENPCF_DEBUG=1`` the traceback is shown (the in-process runner prints it)."""
    from openpcf.cli import calc as calc_cli

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("x" * 1000)

    monkeypatch.setattr(calc_cli, "calculate_model", broken)
    out = openpcf("calc", str(MODEL))
    assert out.returncode == EXIT_BUG
    assert "Traceback" not in out.stderr
    assert "internal error (KeyError: 'xxx" in out.stderr
    assert "This is a bug in OpenPCF" in out.stderr
    assert len(out.stderr) < 800
    monkeypatch.setenv("OPENPCF_DEBUG", "1")
    assert "Traceback" in openpcf("calc", str(MODEL)).stderr


# --- fuzz -----------------------------------------------------------------------------------

_TEXT = MODEL.read_text(encoding="utf-8")
_VALUES = st.one_of(
    st.sampled_from(
        [
            "true",
            "yes",
            "null",
            "~",
            "''",
            "[]",
            "{}",
            "-1",
            "0",
            "1e400",
            "-.inf",
            ".nan",
            "*a",
            "&a [*a]",
            "'[/red]'",
            "'x\\u0000'",
            "9999-12-31",
            "2024-13-45",
            "!!binary x",
            "!!python/object:os.system x",
            "[" * 80 + "]" * 80,
            "'(' * 3",
            "10**400",
            "sqrt(-1)",
            "(-8)**0.5",
            "'" + "-" * 2000 + "1'",
        ]
    ),
    st.text(max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def mutated_model(draw: st.DrawFn) -> str:
    """The test model with one to three values (after a ``key:``) replaced."""
    lines = _TEXT.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        key, sep, _ = lines[i].partition(": ")
        if sep:
            lines[i] = f"{key}: {draw(_VALUES)}"
    return "\n".join(lines) + "\n"


_COMMANDS = st.sampled_from(
    [
        ["calc", "{model}"],
        ["calc", "{model}", "--format", "json"],
        ["calc", "{model}", "--format", "pact"],
        ["calc", "{model}", "--format", "pact", "--pact-version", "2"],
        ["validate", "{model}"],
        ["report", "{model}", "--output", "{out}.html"],
        ["package", "{model}", "--output", "{out}.zip"],
        ["certificate", "issue", "{model}", "--output", "{out}.jwt"],
        ["factors", "search", "{word}"],
        ["factors", "show", "{word}"],
        ["cbam", "default", "--cn", "{word}", "--country", "{word}"],
        ["db", "show", "{word}"],
        ["import", "jsonld", "{model}", "--name", "{word}"],
    ]
)
_OPTIONS = st.lists(
    st.sampled_from(
        [
            ["--param", "{word}"],
            ["--param", "power={value}"],
            ["--gwp", "{word}"],
            ["--solver", "{word}"],
            ["--valid-days", "{value}"],
            ["--factors", "{model}"],
        ]
    ),
    max_size=2,
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=_COMMANDS,
    options=_OPTIONS,
    text=mutated_model(),
    word=st.text(max_size=12).filter(lambda w: "\x00" not in w),
    value=_VALUES.filter(lambda v: "\x00" not in v),
)
def test_item12_fuzz_cli_never_shows_a_traceback(
    tmp_path: Path,
    home: Path,
    command: list[str],
    options: list[list[str]],
    text: str,
    word: str,
    value: str,
) -> None:
    """Commands x options x a mutated model file: any outcome but a traceback or exit 70.

    60 examples take about 5 s; ``--hypothesis-seed`` reproduces a failure.
    """
    model = tmp_path / "fuzz.yaml"
    model.write_text(text, encoding="utf-8", errors="surrogatepass")
    names = {"model": str(model), "out": str(tmp_path / "out"), "word": word, "value": value}
    args = [part.format(**names) for part in command + [p for o in options for p in o]]
    clean(openpcf(*args))
