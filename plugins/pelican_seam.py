"""Pelican's signals are process-global: a receiver registered by one build fires
for every later build in the same process (tests, benchmarks). Receivers act
only for builds that enabled their plugin."""


def enabled(settings, plugin: str) -> bool:
    return plugin in (settings or {}).get("PLUGINS", ())
