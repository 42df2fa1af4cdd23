"""agentrun.tools (being written)."""
