"""agentrun.protocol (being written)."""
