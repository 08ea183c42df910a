"""Model-backed nodes: SAM 3 (segment and track), Depth Anything 3, MatAnyone 2, with their private helpers."""
