"""Reproducing a package: who signed it, and nothing read outside it or beyond what it may cost.

- With trusted keys (``--jwks``) the manifest must be signed by one of them: unsigned, a
  foreign key or a broken signature exit 31 (:class:`UntrustedPackageError`), apart from the
  30 of numbers that differ. Without trusted keys the verdict says the signer is not
  authenticated.
- The model the manifest names and every file the model reads are files of the package: an
  absolute path, ``..``, a drive letter or a symbolic link is refused.
- Reading the zip is bounded: members, per-member and total size, compression ratio.
"""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpcf.certify import KeyStore, jwks
from openpcf.certify.errors import KeySourceError
from openpcf.package import PackageError, ReproductionError, UntrustedPackageError, sha256
from openpcf.package.archive import ZipLimits, is_safe, read_zip
from openpcf.package.signature import UNAUTHENTICATED
from openpcf.services.packaging import build_package, reproduce_package

FIXTURES = Path(__file__).parent / "fixtures"
WIDGET = FIXTURES / "two_process.yaml"
UNTRUSTED = UntrustedPackageError.exit_code


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def key_store(folder: Path, issuer: str) -> KeyStore:
    store = KeyStore(folder)
    store.create(issuer=issuer)
    return store


def jwks_file(store: KeyStore, path: Path) -> Path:
    path.write_text(json.dumps(jwks(keys=store)))
    return path


def read(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {n: z.read(n) for n in z.namelist()}


def rewrite(package: Path, contents: dict[str, bytes]) -> None:
    with zipfile.ZipFile(package, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in contents.items():
            z.writestr(name, data)


def run(*args: str) -> tuple[int, str]:
    from test_certificate import run as run_cli

    return run_cli(*args)


@pytest.fixture
def issuer(home: Path) -> KeyStore:
    return key_store(home / "keys", "https://pcf.example.com")


@pytest.fixture
def signed(issuer: KeyStore, tmp_path: Path) -> Path:
    out = tmp_path / "signed.zip"
    build_package(WIDGET, output=out, keys=issuer)
    return out


# -- who signed --------------------------------------------------------------------------------
def test_trusted_keys_name_the_signer(issuer: KeyStore, signed: Path, tmp_path: Path) -> None:
    trusted = jwks_file(issuer, tmp_path / "jwks.json")
    code, out = run("reproduce", str(signed), "--jwks", str(trusted))
    assert code == 0, out
    kid = issuer.signing_key()[0].kid
    assert f"signature valid, signed by trusted key {kid}" in out
    report = reproduce_package(signed, jwks=trusted)
    assert (report.identical, report.trusted) == (True, True)


def test_without_trusted_keys_the_signer_is_not_authenticated(signed: Path) -> None:
    report = reproduce_package(signed)
    assert report.identical
    assert report.trusted is None
    assert report.signature == UNAUTHENTICATED
    code, out = run("reproduce", str(signed))
    assert code == 0, out
    assert "signature valid, signer not authenticated (no trusted keys given)" in out


def test_unsigned_package_with_trusted_keys_exits_31(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "unsigned.zip"
    build_package(WIDGET, output=out)  # no key store: not signed
    assert "manifest.jws" not in read(out)
    trusted = jwks_file(key_store(tmp_path / "verifier", "https://a.example"), tmp_path / "j.json")
    code, text = run("reproduce", str(out), "--jwks", str(trusted))
    assert code == UNTRUSTED == 31
    assert UNTRUSTED not in (ReproductionError.exit_code, PackageError.exit_code)
    assert "not signed, but trusted keys were given" in text
    report = reproduce_package(out, jwks=trusted)
    assert (report.identical, report.trusted) == (False, False)  # the numbers alone are equal
    assert report.kg_co2e_recomputed == report.kg_co2e_packaged


def test_unsigned_package_without_trusted_keys_says_so(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "unsigned.zip"
    build_package(WIDGET, output=out)
    report = reproduce_package(out)
    assert report.identical
    assert report.signature.startswith("not signed, signer not authenticated")


def test_foreign_key_exits_31(signed: Path, tmp_path: Path) -> None:
    """Signed by the packager's own key, checked against another issuer's keys."""
    other = key_store(tmp_path / "other", "https://other.example.com")
    code, text = run("reproduce", str(signed), "--jwks", str(jwks_file(other, tmp_path / "o.json")))
    assert code == UNTRUSTED
    assert "which is not among the trusted keys" in text


def test_foreign_key_with_its_own_jwks_inside_the_package(
    issuer: KeyStore, signed: Path, tmp_path: Path
) -> None:
    """A forger re-signs the manifest with their key and puts their JWKS in the package: it
    verifies with the keys inside (integrity), never with the issuer's trusted keys."""
    from openpcf.package.signature import sign_manifest

    forger = key_store(tmp_path / "forger", "https://pcf.example.com")
    contents = read(signed)
    manifest = json.loads(contents["manifest.json"])
    manifest["gwp"] = "AR6"
    contents["manifest.json"] = json.dumps(manifest).encode()
    contents["manifest.jws"] = sign_manifest(contents["manifest.json"], forger).encode()
    contents["jwks.json"] = json.dumps(jwks(keys=forger)).encode()
    rewrite(signed, contents)
    assert reproduce_package(signed).signature == UNAUTHENTICATED
    trusted = jwks_file(issuer, tmp_path / "jwks.json")
    code, text = run("reproduce", str(signed), "--jwks", str(trusted))
    assert code == UNTRUSTED
    assert "not among the trusted keys" in text


def test_manifest_changed_after_signing_with_trusted_keys_exits_31(
    issuer: KeyStore, signed: Path, tmp_path: Path
) -> None:
    contents = read(signed)
    manifest = json.loads(contents["manifest.json"])
    manifest["gwp"] = "AR5"
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(signed, contents)
    code, text = run("reproduce", str(signed), "--jwks", str(jwks_file(issuer, tmp_path / "j")))
    assert code == UNTRUSTED
    assert "manifest.json was changed after it was signed" in text


def test_unreadable_trusted_keys_are_an_error(signed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "jwks.json"
    bad.write_text('{"keys": "none"}')
    with pytest.raises(KeySourceError, match="not a JWKS"):
        reproduce_package(signed, jwks=bad)
    code, _ = run("reproduce", str(signed), "--jwks", str(tmp_path / "missing.json"))
    assert code == KeySourceError.exit_code


# -- nothing read outside the package ------------------------------------------------------------
def outside_copy(tmp_path: Path) -> Path:
    """A model outside the package that reproduces the packaged numbers exactly: before the
    fix, naming it in the manifest made `reproduce` read it and answer "identical"."""
    folder = tmp_path / "outside"
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(WIDGET, folder / "two_process.yaml"))


@pytest.mark.parametrize(
    "model",
    [
        "{outside}",  # absolute path
        "model/../../outside/two_process.yaml",  # climbs out of the package folder
        "../outside/two_process.yaml",
        "C:/outside/two_process.yaml",  # a drive letter
        "model/missing.yaml",  # not in the package
        42,
    ],
)
def test_manifest_model_outside_the_package_is_refused(
    home: Path, tmp_path: Path, model: object
) -> None:
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)
    contents = read(out)
    manifest = json.loads(contents["manifest.json"])
    manifest["model"] = str(model).format(outside=outside_copy(tmp_path)) if model != 42 else 42
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(out, contents)
    report = reproduce_package(out)
    assert not report.identical
    assert report.kg_co2e_recomputed is None
    assert any("refused" in p or "does not hold" in p for p in report.problems), report.problems


def _carton_with_board_ref(tmp_path: Path, ref: str) -> Path:
    """The carton package whose model names its supplier footprint by ``ref``, digests fixed
    so that the reference is the only thing wrong."""
    out = tmp_path / "carton.zip"
    build_package(FIXTURES / "pact_supplier_box.yaml", output=out)
    contents = read(out)
    model = "model/pact_supplier_box.yaml"
    contents[model] = contents[model].replace(b"pact_supplier_board.json", ref.encode())
    manifest = json.loads(contents["manifest.json"])
    manifest["files"][model] = sha256(contents[model])
    contents["manifest.json"] = json.dumps(manifest).encode()
    rewrite(out, contents)
    return out


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("{board}", "an absolute path"),
        ("../../../../../../../../../..{board}", "leaves the package"),
        ("C:board.json", "an absolute path"),
        ("other_board.json", "not a file in the package"),
    ],
)
def test_side_file_outside_the_package_is_refused(
    home: Path, tmp_path: Path, ref: str, why: str
) -> None:
    board = Path(shutil.copy(FIXTURES / "pact_supplier_board.json", tmp_path / "board.json"))
    out = _carton_with_board_ref(tmp_path, ref.format(board=board))
    report = reproduce_package(out)
    assert not report.identical
    assert report.kg_co2e_recomputed is None
    assert any(why in p and "refused" in p for p in report.problems), report.problems


def test_side_file_through_a_symlink_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a member name that stays inside must not resolve through a link outside."""
    import openpcf.package.layout as layout

    board = tmp_path / "secret.json"
    shutil.copy(FIXTURES / "pact_supplier_board.json", board)
    real = layout.extract_model

    def with_link(tmp: Path, contents: dict[str, bytes]) -> None:
        real(tmp, contents)
        target = tmp / "model" / "pact_supplier_board.json"
        target.unlink()
        target.symlink_to(board)

    monkeypatch.setattr("openpcf.services.packaging.extract_model", with_link)
    out = tmp_path / "carton.zip"
    build_package(FIXTURES / "pact_supplier_box.yaml", output=out)
    report = reproduce_package(out)
    assert any("symbolic link" in p for p in report.problems), report.problems


def test_symlink_member_is_refused(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)
    with zipfile.ZipFile(out, "a") as z:
        info = zipfile.ZipInfo("model/link.yaml")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    with pytest.raises(PackageError, match="symbolic link"):
        reproduce_package(out)


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "model/../../x", "C:/x", "c:x", "model\\..\\x", "model/a\x00b", ""]
)
def test_unsafe_member_names(name: str) -> None:
    assert not is_safe(name)


def test_safe_member_names() -> None:
    assert is_safe("model/models/delivered.yaml")
    assert is_safe("model/a:b.json")  # a colon past the first part is no drive


# -- bounded cost ------------------------------------------------------------------------------
def test_zip_bomb_is_refused_before_inflating(home: Path, tmp_path: Path) -> None:
    """20 MiB of zeros deflate to about 20 KB (ratio ~1000): refused from the directory."""
    out = tmp_path / "widget.zip"
    build_package(WIDGET, output=out)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("model/bomb.yaml", bytes(20 * 2**20))
    assert out.stat().st_size < 200_000
    code, text = run("reproduce", str(out))
    assert code == PackageError.exit_code
    assert "zip bomb" in text
    assert "Traceback" not in text


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "many.zip"
    with zipfile.ZipFile(out, "w") as z:
        for n in range(1_001):
            z.writestr(f"model/{n}.yaml", "")
    with pytest.raises(PackageError, match=r"1,001 members.*refused without reading them"):
        read_zip(out)


def test_a_zip64_directory_is_judged_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """65,536 members need the ZIP64 end record: its count is read from there, and the zip
    is refused without zipfile ever parsing the directory."""
    out = tmp_path / "zip64.zip"
    with zipfile.ZipFile(out, "w") as z:
        for n in range(65_536):
            z.writestr(f"model/{n}", b"")

    def parse(*args: object, **kwargs: object) -> None:
        pytest.fail("the directory was parsed")

    monkeypatch.setattr(zipfile.ZipFile, "__init__", parse)
    with pytest.raises(PackageError, match=r"65,536 members.*refused without reading them"):
        read_zip(out)


def test_member_and_total_sizes_are_bounded(tmp_path: Path) -> None:
    out = tmp_path / "big.zip"
    with zipfile.ZipFile(out, "w") as z:  # stored: ratio 1
        z.writestr("a", b"x" * 600)
        z.writestr("b", b"y" * 600)
    assert set(read_zip(out)) == {"a", "b"}
    with pytest.raises(PackageError, match=r"member a is 0 MiB uncompressed \(600 bytes\)"):
        read_zip(out, limits=ZipLimits(member_bytes=500))
    with pytest.raises(PackageError, match="uncompressed in all, more than a package may hold"):
        read_zip(out, limits=ZipLimits(total_bytes=1_000))
    with pytest.raises(PackageError, match="2 members, more than 1, the most a package may"):
        read_zip(out, limits=ZipLimits(members=1))


def test_duplicate_members_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "twice.zip"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("result.json", "{}")
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("result.json", '{"kg_co2e": 1}')
    with pytest.raises(PackageError, match="appears more than once"):
        read_zip(out)


def test_bad_crc_is_a_package_error(tmp_path: Path) -> None:
    out = tmp_path / "crc.zip"
    with zipfile.ZipFile(out, "w") as z:  # stored, so the bytes can be flipped in place
        z.writestr("result.json", b'{"kg_co2e": 6.2054}')
    data = bytearray(out.read_bytes())
    at = data.index(b"6.2054")
    data[at] = ord("7")
    out.write_bytes(bytes(data))
    with pytest.raises(PackageError, match=r"not a readable zip file.*CRC"):
        read_zip(out)
