"""The local playground: the real bot, the Bot API emulator and a chat page in one process.

`yogabot playground` (or `make run` without BOT_TOKEN) starts it; see runner.py.
"""

from playground.runner import Playground, PlaygroundError, playground, run_playground
from playground.server import PlaygroundServer

__all__ = ["Playground", "PlaygroundError", "PlaygroundServer", "playground", "run_playground"]
