"""The postvak: what parents send from their family page, processed exactly once.

The collectors (nginx/Apache spool, S3) hand each submission to `intake`; the
admin task calls `process` (or `tick` in its --watch loop); the build asks
`threads` what each family page shows. See messages.py for the JSON shapes and
store.py for the private folder's layout.
"""

from .consent import Outcome
from .mail import Delivery
from .process import (
    Pending,
    Summary,
    Urgent,
    acknowledge_published,
    acknowledge_urgent,
    pending_publish,
    pending_urgent,
    process,
    record_admin_decision,
)
from .schedule import Tick, absences_on, send_daylists, systemd_units, tick, watch
from .settings import PostvakSettings, SmtpSettings
from .store import QuarantineItem, Received, intake, quarantine_list
from .thread import ThreadItem, export_threads, family_thread, threads

__all__ = [
    "Delivery", "Outcome", "Pending", "PostvakSettings", "QuarantineItem", "Received",
    "SmtpSettings", "Summary", "ThreadItem", "Tick", "Urgent", "absences_on",
    "acknowledge_published", "acknowledge_urgent", "export_threads", "family_thread", "intake",
    "pending_publish", "pending_urgent", "process", "quarantine_list", "record_admin_decision",
    "send_daylists", "systemd_units", "threads", "tick", "watch",
]
