"""Production settings: pelicanconf.py plus what only a real deployment needs.

`invoke publish` builds with this file; `invoke serve` and `invoke demo` use
pelicanconf.py. Page links stay root-relative (/groep/…), so the same output
works behind nginx, Apache and CloudFront; feeds need the absolute address.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pelicanconf import *  # noqa: E402,F403

SITEURL = ""
FEED_DOMAIN = SCHOOLPLEIN_SETTINGS.site_url  # noqa: F405
DELETE_OUTPUT_DIRECTORY = True
