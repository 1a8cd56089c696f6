"""Alerts (issue 14): flagged new items sent where the analyst already reads, once per story.

    routing.py    which destinations a flagged item goes to (by watch entry and kind): pure, used by the writer
    message.py    an alert or a digest as text or Telegram's HTML subset, fitted to the service, bidi-isolated
    timing.py     quiet hours and digest periods in Tehran time, the capped backoff of a failing destination
    service.py    Apprise, the only code that talks to a service (imported lazily: `monitor status` never loads it)
    masking.py    secrets out of every text that may be shown
    sender.py     drains the outbox (monitor.store.outbox) after commits: in the daemon and at the end of a poll

The store fills the outbox in the transaction that stores the flagged item; the sender marks a row sent only
after the service answered, so a crash loses no alert and sends one twice at most once (the row id is in the
message). Senders know Apprise and nothing of feeds.
"""
