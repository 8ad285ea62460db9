"""Settings, read at the edges only (CLI, API, storage).

``OPENPCF_HOME`` names the directory for user data: imported databases, stored results, keys
and user factor sets. By default it is the platform's user data directory.
``OPENPCF_DATABASE_URL`` names the SQL database (default: SQLite ``$OPENPCF_HOME/openpcf.db``;
``postgresql+psycopg://user@host:port/db`` for PostgreSQL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str

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
    return Settings(home=home, database_url=url)
