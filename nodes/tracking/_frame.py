"""The frame a tracker works on: the plate at the working resolution, as 8-bit colour and grey."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..common._imaging import resize, to_display_u8


@dataclass
class WorkFrame:
    """A plate frame at the working resolution: ``rgb8`` uint8 H×W×3 (sRGB), ``grey`` uint8."""

    rgb8: np.ndarray
    grey: np.ndarray

    @classmethod
    def of(cls, image: np.ndarray, scale: float) -> "WorkFrame":
        rgb8 = to_display_u8(resize(image, scale))
        return cls(rgb8, cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY))

    @property
    def shape(self) -> tuple[int, int]:
        return self.grey.shape
