"""Matte operations: Grow, Feather, clean-up, MatteRefine, masks ↔ mattes, temporal smoothing and motion blur."""
