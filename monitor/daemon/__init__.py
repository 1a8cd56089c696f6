"""`monitor run`, the service, in rooms:

  service.py  the Daemon: start, run until a signal, stop cleanly; the one writer thread; config applied live
  jobs.py     APScheduler: one job per feed (it only says the feed is due), the cycle summary, housekeeping and
              the scheduled report
  watcher.py  config.yaml watched (and SIGHUP), a valid edit applied, a changed watch list re-matched
  lock.py     one daemon per database (flock on `<database>.lock`), read by `monitor status`

This file imports nothing, so `monitor status` can read the lock without loading the service.
"""
