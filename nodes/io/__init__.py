"""Input nodes: Read."""
