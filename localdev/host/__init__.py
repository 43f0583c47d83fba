"""`python -m localdev host`: serve function_app like `func start`, without Core Tools.

- `settings`: local.settings.json Values into the environment; host.json options.
- `index`: the app's functions and bindings; unsupported ones fail the start.
- `routing`: ASP.NET route templates; `httpserver`: the HTTP functions.
- `timers`: NCRONTAB timer triggers; `queues`: queue triggers on Azurite.
- `localhost`: `LocalHost`, all of it in one context manager; `cli`: the command.
"""

from localdev.host.localhost import LocalHost
from localdev.host.settings import HostConfig, HostError

__all__ = ["HostConfig", "HostError", "LocalHost"]
