"""agentrun.spec (being written)."""
