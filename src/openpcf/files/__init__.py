"""Ground layer: durable writes and user files read with ``file:line`` errors.

- :mod:`openpcf.files.durable`: atomic replace, fsync'd appends, an exclusive lock.
- :mod:`openpcf.files.yamlfile`: YAML with the line of every value, schema errors as
  ``file:line: data.path: message``.
- :mod:`openpcf.files.csvfile`: CSV rows with their line numbers.
- :mod:`openpcf.files.schema`: the strict pydantic base class of every user-file schema.
- :mod:`openpcf.files.zips`: zips from someone else (database exports, verification
  packages), opened and read within one set of bounds.

This package imports the standard library, PyYAML, pydantic and :mod:`openpcf.errors` only.
"""
