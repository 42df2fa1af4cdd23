"""agentrun.transport (being written)."""
