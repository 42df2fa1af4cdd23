"""agentrun.io (being written)."""
