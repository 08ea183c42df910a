"""Tracking: FlowTrack and its private helpers (motion, appearance, cuts, re-acquisition)."""
