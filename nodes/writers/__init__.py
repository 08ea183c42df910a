"""Writers: image, movie, per-object, camera/geometry, Blender and QC outputs."""
