"""agentrun.sim (being written)."""
