"""Where a conversation meets its caller: one small Endpoint interface and the text console."""

from agentrun.io._console import TextConsole
from agentrun.io._endpoint import Endpoint, NullEndpoint

__all__ = ["Endpoint", "NullEndpoint", "TextConsole"]
