"""SAM 3 (Carion et al., "SAM 3: Segment Anything with Concepts", 2025; package ``sam3``) in
rotograph: :class:`SAM3Segment` (one frame, :mod:`.sam3_segment`) and :class:`SAM3Track` (a
shot, :mod:`.sam3_track`); their models, key and device in :mod:`._sam3_models`, sam3's CUDA-only
code redirected off CUDA by :mod:`._sam3_compat`."""

from ._sam3_models import BPE_NAME, SAM3_DTYPE, bpe_vocab, build_image_model, build_video_model, sam3_key
from .sam3_segment import SAM3Segment
from .sam3_track import SAM3Track

__all__ = ["BPE_NAME", "SAM3_DTYPE", "SAM3Segment", "SAM3Track", "bpe_vocab", "build_image_model",
           "build_video_model", "sam3_key"]
