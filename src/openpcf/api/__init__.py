"""The PACT host's HTTP edge (FastAPI): routers, dependencies, the one error handler.

``create_app`` builds the application; ``openpcf serve`` runs it with uvicorn over HTTPS.
Routers parse the request and call one service function of
:mod:`openpcf.services.pact.host`; errors are translated once in :mod:`openpcf.api.errors`.
"""

from openpcf.api.app import HostConfig, create_app

__all__ = ["HostConfig", "create_app"]
