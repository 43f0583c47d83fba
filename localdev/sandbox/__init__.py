"""A local fake of the Twitch, YouTube and Rumble APIs, in their wire formats.

`python -m localdev sandbox --help` serves it; tests and benchmarks use
`Sandbox` in-process. A synthetic population of channels streams on a
deterministic schedule (a pure function of seed, channel and time), so every
answer is reproducible and `/_sandbox/truth` says exactly what happened.
"""

from localdev.sandbox.server import Sandbox

__all__ = ["Sandbox"]
