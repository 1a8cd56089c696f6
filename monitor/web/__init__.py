"""`monitor serve`: the flagged items, search, an item whole, stories and feed health in a browser.

A thin layer over what the readers already compute (as datasette is over SQLite): the flagged list is
monitor.report.view's report, search is monitor.search.run, an item is monitor.show.item_whole, stories are
store.stories.query and feeds monitor.report.feed_health. Pages are rendered on the server (Jinja2, autoescape
on) and work without JavaScript; the one script (static/live.js, the project's own) only polls for new flags.

  app.py     the Starlette application: routes, security headers, password (auth.py), templates
  pages.py   one function per page: read the store read-only, hand the template what the readers computed
  chart.py   /chart: the HTML report's chart (monitor.report.chart) over the list's filters
  auth.py    the scrypt password file, the loopback rule and the CSRF tokens
  server.py  uvicorn: in the foreground (`monitor serve`) or in a thread of the daemon (`monitor run --serve`)
"""

from monitor.web.app import create_app

__all__ = ["create_app"]
