"""A self-signed TLS certificate for running the PACT host in development (``--dev-cert``).

The certificate (EC P-256, valid 365 days) names ``localhost``, ``127.0.0.1`` and ``::1`` plus
any extra host names asked for; it is written to ``$OPENPCF_HOME/tls/dev-cert.pem`` and its
key to ``dev-key.pem`` (mode 0600), and reused while it is valid for at least another day and
covers the names asked for. Clients must trust that certificate explicitly (e.g.
``httpx.Client(verify="…/dev-cert.pem")``): it is for development and tests, never production.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openpcf.files.durable import atomic_write

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class CertificatePair:
    cert: Path
    key: Path


def dev_certificate(
    folder: Path, *, names: Sequence[str] = (), now: dt.datetime | None = None
) -> CertificatePair:
    """The development certificate in ``folder`` (made, or remade, when needed)."""
    folder = Path(folder)
    pair = CertificatePair(folder / "dev-cert.pem", folder / "dev-key.pem")
    wanted = list(dict.fromkeys([*DEFAULT_NAMES, *names]))
    now = now or dt.datetime.now(dt.UTC)
    if _usable(pair, wanted, now):
        return pair
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenPCF development host")])
    alt: list[x509.GeneralName] = []
    for name in wanted:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write(pair.key, key_pem, mode=0o600)
    atomic_write(pair.cert, cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _usable(pair: CertificatePair, names: list[str], now: dt.datetime) -> bool:
    if not (pair.cert.exists() and pair.key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in alt.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in alt.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc - now > dt.timedelta(days=1)
    return fresh and all(str(_normal(n)) in have for n in names)


def _normal(name: str) -> object:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return name
