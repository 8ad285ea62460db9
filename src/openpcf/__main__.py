from openpcf.cli.main import run

run()
