"""Storage: SQLAlchemy models, repositories and Alembic migrations (SQLite or PostgreSQL).

Import the pieces from their modules (``openpcf.db.engine``, ``openpcf.db.repositories``,
``openpcf.db.migrate``); this package imports nothing so that ``import openpcf.db`` is cheap.
"""
