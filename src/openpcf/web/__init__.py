"""The web application: server-rendered pages for people (engineers, suppliers, verifiers).

An edge layer like :mod:`openpcf.api`: routers that parse forms, check the session and the
role, call one service function and render a Jinja2 template. htmx and ECharts are vendored
under ``static/vendor`` (no CDN, no build step). Start it with ``openpcf web``; see
``docs/web.md``.
"""
