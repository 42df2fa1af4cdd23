"""agentrun.engine (being written)."""
