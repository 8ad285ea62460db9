"""``openpcf report``: files written whole or not at all, clear errors for bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fixtures.in_process import openpcf
from openpcf.cli.report import report
from openpcf.errors import InputError, ModelFileError
from openpcf.reports import ReportOutputError, UnknownLanguageError, UnknownReportFormatError
from openpcf.reports.output import write_report

FIXTURE = Path(__file__).parent / "fixtures" / "two_process.yaml"

app = typer.Typer()
app.command()(report)
app.command("noop")(lambda: None)  # two commands, so "report" is addressed by name as in openpcf


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["report", *args])


def test_html_report(tmp_path: Path) -> None:
    out = tmp_path / "widget.html"
    result = invoke(str(FIXTURE), "-o", str(out), "--lang", "zh")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "产品碳足迹研究报告" in html
    assert html.count("<svg") == 4
    assert "6.21 kg CO2e" in html
    assert [p.name for p in tmp_path.iterdir()] == ["widget.html"]  # no temporary file left


def test_param_and_gwp_reach_the_report(tmp_path: Path) -> None:
    """power=10 and AR5: 4 + 10 x 0.7252 + 0.001 x 30 = 11.282 → 11.3."""
    out = tmp_path / "widget.html"
    result = invoke(str(FIXTURE), "-o", str(out), "--param", "power=10", "--gwp", "AR5")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    html = out.read_text(encoding="utf-8")
    assert "11.3 kg CO2e" in html
    assert "AR5: IPCC AR5 GWP100" in html


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["--lang", "fr"], UnknownLanguageError, "unknown report language 'fr'"),
        (["--format", "docx"], UnknownReportFormatError, "unknown report format 'docx'"),
    ],
)
def test_bad_options(tmp_path: Path, args: list[str], error: type, message: str) -> None:
    out = tmp_path / "r.html"
    result = invoke(str(FIXTURE), "-o", str(out), *args)
    assert isinstance(result.exception, error)  # type: ignore[attr-defined]
    assert isinstance(result.exception, InputError)  # type: ignore[attr-defined]
    assert message in str(result.exception)  # type: ignore[attr-defined]
    assert not out.exists()


def test_unwritable_output(tmp_path: Path) -> None:
    out = tmp_path / "missing-folder" / "r.html"
    result = invoke(str(FIXTURE), "-o", str(out))
    assert isinstance(result.exception, ReportOutputError)  # type: ignore[attr-defined]
    assert "does not exist" in str(result.exception)  # type: ignore[attr-defined]
    result = invoke(str(FIXTURE), "-o", str(tmp_path))
    assert isinstance(result.exception, ReportOutputError)  # type: ignore[attr-defined]
    assert "is a folder" in str(result.exception)  # type: ignore[attr-defined]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ReportOutputError, match="not writable"):
            write_report(folder / "r.html", b"x")
    finally:
        folder.chmod(0o700)


def test_model_error_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FIXTURE.read_text(encoding="utf-8").replace("proc", "porc", 1), "utf-8")
    out = tmp_path / "r.pdf"
    result = invoke(str(bad), "-o", str(out), "-f", "pdf")
    assert isinstance(result.exception, ModelFileError)  # type: ignore[attr-defined]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r.html"
    out.write_bytes(b"old report")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ReportOutputError, match="No space left on device"):
        write_report(out, b"new report")
    assert out.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def _registered() -> bool:
    from openpcf.cli.main import app as main_app

    return any(c.name == "report" for c in main_app.registered_commands)


@pytest.mark.skipif(not _registered(), reason="'report' is not yet registered in cli/main.py")
def test_openpcf_report_command(tmp_path: Path) -> None:
    """Through the real entry point (in this process): errors are one red line and exit code 2,
    no traceback."""
    out = tmp_path / "r.html"
    ok = openpcf("report", str(FIXTURE), "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert out.exists()
    bad = openpcf("report", str(FIXTURE), "-o", str(out), "--lang", "fr")
    assert bad.returncode == 2
    assert "unknown report language" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_character_no_font_has_is_a_warning_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A product name with 龘 (U+9F98, outside GB 2312 and the bundled font): the PDF is
    written and the CLI names the character; a fallback font that does not exist is an
    input error. (Debian's fonts-noto-cjk, the default fallback, would draw it: the test
    takes it away, so it holds on machines with and without that package.)"""
    from openpcf.reports import fonts

    missing = fonts.FontFile(tmp_path / "absent.ttc", fonts.SC_FACE)
    monkeypatch.setattr(fonts, "SYSTEM_FALLBACK", (missing, missing))
    model = tmp_path / "rare.yaml"
    text = FIXTURE.read_text(encoding="utf-8")
    model.write_text(text.replace("  name: Widget", "  name: Widget 龘", 1), encoding="utf-8")
    out = tmp_path / "rare.pdf"
    result = invoke(str(model), "-o", str(out), "-f", "pdf", "--fallback-font", str(tmp_path))
    assert isinstance(result.exception, InputError)  # type: ignore[attr-defined]
    assert "no such file" in str(result.exception)  # type: ignore[attr-defined]
    result = invoke(str(model), "-o", str(out), "-f", "pdf")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "warning: the PDF report has 1 character(s) that no font can draw: 龘 (U+9F98)" in (
        result.output  # type: ignore[attr-defined]
    )
    assert out.read_bytes().startswith(b"%PDF-")
