"""The AI model families the built-in nodes use, registered with the nodes
(``registry.add_model``) so that ``rotograph doctor`` reports them, as it does a plugin's."""

from __future__ import annotations

from rotograph.interop.models import ModelSpec

SAM3 = ModelSpec("SAM 3", "sam3", "sam3", "pip install sam3", "facebook/sam3", "ROTOGRAPH_SAM3_WEIGHTS",
                 ("sam3.pt",), gated=True)
DA3 = ModelSpec("Depth Anything 3", "depth_anything_3", "depth-anything-3",
                "pip install --no-deps depth-anything-3 (it pins numpy<2 and app-only packages)",
                "depth-anything/DA3-LARGE", "ROTOGRAPH_DA3_WEIGHTS", ("model.safetensors",))
MATANYONE2 = ModelSpec("MatAnyone 2", "matanyone2", "matanyone2-runtime",
                       "pip install --no-deps matanyone2-runtime (it pins gradio, PySide6, …)",
                       "PeiqingYang/MatAnyone2", "ROTOGRAPH_MATANYONE_WEIGHTS", ("config.json", "model.safetensors"))

MODEL_SPECS = {"sam3": SAM3, "da3": DA3, "matanyone2": MATANYONE2}
