"""Wiring: the one place that reads settings and builds what a function runs on.

Each Lambda function's handler module calls its builder once, at cold start (``balance.api()``,
``balance.sync()``, ``promo.api()``, ...), and gets a frozen bundle of ready services, stores and settings.
Services and stores never read the environment and never build their own clients: they are given them
here. ``common`` holds the builders several functions share (upstream clients, the webhook watch), each
made once per container.

Each builder imports what it builds inside its own body, so a function's cold start imports only its own
services (the fast-start issue measures it).
"""
