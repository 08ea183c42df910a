"""Format, placement and depth: Reformat, Crop, Transform, depth operations, camera geometry."""
