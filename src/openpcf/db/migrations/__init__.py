"""Alembic migrations of the OpenPCF database (run them with :mod:`openpcf.db.migrate`)."""
