"""Settings, read at the edges only (CLI, API, storage).

``OPENPCF_HOME`` names the directory for user data: imported databases, stored results, keys
and user factor sets. By default it is the platform's user data directory.
``OPENPCF_DATABASE_URL`` names the SQL database (default: SQLite ``$OPENPCF_HOME/openpcf.db``;
``postgresql+psycopg://user@host:port/db`` for PostgreSQL).
``OPENPCF_MAX_BACKGROUND_ENTRIES`` bounds the linked-database subsets a verification package
may carry or a reproduction may read (a positive integer, ``_`` allowed: ``5_000_000``;
default :data:`openpcf.package.background_subset.MAX_SUBSET_ENTRIES`, 2 000 000 matrix
entries and stored exchanges); ``openpcf package/reproduce --max-background-entries``
overrides it for one run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from openpcf.errors import InputError

#: The environment variable of :attr:`Settings.max_background_entries`.
MAX_BACKGROUND_ENTRIES_ENV = "OPENPCF_MAX_BACKGROUND_ENTRIES"


class SettingsError(InputError):
    """An environment variable of the settings has a value that cannot be used; the message
    names the variable and what it should hold (an :class:`~openpcf.errors.InputError`, so
    the CLI reports it as bad input, exit 2)."""


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    #: The most entries of packed linked-database subsets (module docstring); None: the
    #: package's own default.
    max_background_entries: int | None = None

    @property
    def factor_dir(self) -> Path:
        """User factor sets (CSV or YAML) loaded with the bundled ones."""
        return self.home / "factors"

    @property
    def supplier_dir(self) -> Path:
        """The old file inbox of received supplier footprints: no longer read or written.

        Supplier footprints live in the database (``openpcf.services.suppliers``); this folder
        is only named in hints, because files left there may be unsolicited answers.
        """
        return self.home / "supplier_footprints"

    @property
    def rules_dir(self) -> Path:
        """The user's own rule-set files (``openpcf rules``), next to the bundled ones."""
        return self.home / "rules"

    @property
    def databases_dir(self) -> Path:
        """Imported LCI databases (``openpcf import``), for ``background:`` inputs."""
        return self.home / "databases"

    @property
    def audit_trail(self) -> Path:
        """The append-only audit trail of calculations."""
        return self.home / "audit" / "trail.jsonl"

    @property
    def registry_file(self) -> Path:
        """The register of electricity certificates already claimed."""
        return self.home / "registry" / "electricity_certificates.json"

    @property
    def keys_dir(self) -> Path:
        """The issuer's signing keys for certificates."""
        return self.home / "keys"


@cache
def get_settings() -> Settings:
    env = os.environ.get("OPENPCF_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("openpcf", appauthor=False))
    url = os.environ.get("OPENPCF_DATABASE_URL") or f"sqlite:///{home / 'openpcf.db'}"
    entries = _positive_int(MAX_BACKGROUND_ENTRIES_ENV)
    return Settings(home=home, database_url=url, max_background_entries=entries)


def _positive_int(name: str) -> int | None:
    """The environment variable ``name`` as a positive integer; None when unset or empty."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"environment variable {name}={text!r}: expected a positive integer")
    return value
