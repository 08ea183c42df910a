"""Roto shapes: MatteToShapes, ShapesToMatte, Roto and WriteShapes, with shape fitting and rasterisation."""
