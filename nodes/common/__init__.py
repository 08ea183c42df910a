"""Helpers shared by several node families: imaging (resize, blur, flow), fused pixel kernels, colour params."""
