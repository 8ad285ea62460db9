"""The ``openpcf`` command line: parsing and error translation only."""
