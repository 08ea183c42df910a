"""Keyer and Despill: colour-difference keying of green and blue screens."""

from __future__ import annotations

import numpy as np

from rotograph import Color, Image, Input, Matte, Node, Output, Param
from rotograph.core.node import CachePolicy

from ..common._imaging import blur, pull_push, smooth_blur, smooth_blur_coarse, split_alpha, upsample_taps

SCREEN_CHANNEL = {"green": 1, "blue": 2}


def colour_difference(rgb: np.ndarray, screen: str, combine: str = "max") -> np.ndarray:
    """Screen channel minus the other two (their max, or their average): float32 H×W.

    rgb: float32 H×W×3 (a view of the first three channels is fine). The classic
    colour-difference signal (Vlahos, US patent 4,344,085; Wright, *Digital Compositing for
    Film and Video*, ch. 5). One fused pass (:mod:`rotograph.nodes.common._kernels`)."""
    from ..common._kernels import colour_difference as kernel

    return kernel(np.asarray(rgb, np.float32), SCREEN_CHANNEL[screen], combine == "average")


class Keyer(Node):
    """Chroma key a green or blue screen plate into a matte.

    alpha = 1 − gain · d / s, where d is the colour difference of the pixel (screen channel
    minus the max or average of the other two) and s that of the screen colour, then
    ``clip_black``/``clip_white`` remap [black, white] to [0, 1]. ``adaptive`` corrects uneven
    screens: s is estimated locally (normalised Gaussian convolution of the pixels first keyed
    as pure screen — the idea of Nuke's IBK clean-plate keyers), falling back to
    ``screen_color`` where there is no screen nearby. ``prefilter`` blurs d by that many
    pixels (σ) to keep grain out of the matte.

    image: Image H×W×3/4 scene-linear. Output ``matte``: float32 H×W in [0, 1] (1 = foreground).
    """

    type_id = "rotograph.Keyer"
    pixel_params = {"adaptive_size": 1, "prefilter": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Keying"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    screen = Param(str, "green", choices=("green", "blue"))
    screen_color = Param(Color, [0.08, 0.45, 0.1], doc="Scene-linear colour of the screen", ui={"widget": "color"})
    combine = Param(str, "max", choices=("max", "average"), doc="How the two other channels combine")
    gain = Param(float, 1.0, range=(0.1, 10.0), doc="Key strength")
    adaptive = Param(bool, True, doc="Estimate the screen colour locally (uneven screens)")
    adaptive_size = Param(float, 40.0, range=(2.0, 500.0), doc="σ (px) of the local screen estimate")
    prefilter = Param(float, 1.0, range=(0.0, 20.0), doc="σ (px) of the grain filter on the key signal")
    clip_black = Param(float, 0.0, range=(0.0, 1.0), doc="Alpha at or below this becomes 0")
    clip_white = Param(float, 1.0, range=(0.0, 1.0), doc="Alpha at or above this becomes 1")
    matte = Output(Matte)

    def compute(self, ctx, image):
        from ..common._kernels import key_alpha

        d = blur(colour_difference(image[..., :3], self.screen, self.combine), self.prefilter)
        s_global = float(colour_difference(np.asarray(self.screen_color, np.float32)[None, None], self.screen,
                                           self.combine)[0, 0])
        s_global = max(s_global, 1e-4)
        if self.adaptive:
            screen_diff = self._local_screen(d, s_global)
        else:
            screen_diff = np.broadcast_to(np.float32(s_global), d.shape)
        lo, hi = self.clip_black, max(self.clip_white, self.clip_black + 1e-6)
        return key_alpha(d, screen_diff, np.float32(self.gain), np.float32(lo), np.float32(hi))

    def _local_screen(self, d: np.ndarray, s_global: float) -> np.ndarray:
        """Per-pixel screen colour difference of an uneven screen (float32 H×W).

        Screen pixels are first picked relative to the plate's own strongest screen signal
        (the 90th percentile of d), so a dim corner of the screen is found whatever the
        ``screen_color``; the estimate is refined once with the pixels keyed as screen.
        The weighted average is a normalised convolution with the pyramid Gaussian of
        :func:`rotograph.nodes.common._imaging.smooth_blur` (σ = ``adaptive_size``)."""
        from ..common._kernels import screen_estimate, screen_estimate_up, screen_weight

        reference = max(float(np.percentile(d, 90)), 1e-4)
        signal = np.empty(d.shape + (2,), np.float32)  # [d·w, w]: the screen pixels' signal and weight
        screen_weight(d, np.broadcast_to(np.float32(1.0), d.shape), np.float32(0.25 * reference), signal)
        taps = None
        for _ in range(2):
            coarse = smooth_blur_coarse(signal, self.adaptive_size)
            if coarse is None:
                sums = smooth_blur(signal, self.adaptive_size)
                estimate = screen_estimate(sums[..., 0], sums[..., 1], np.float32(s_global))
            else:  # read the blur at 1/f size: no full-size blurred copy
                small, padded, m = coarse
                taps = taps or upsample_taps(small.shape, padded, m, d.shape)
                estimate = screen_estimate_up(small, *taps, np.float32(s_global))
            screen_weight(d, estimate, np.float32(0.9), signal)  # keyed as pure screen (alpha < 0.1)
        return estimate


class Despill(Node):
    """Remove screen colour spilled onto the foreground.

    ``average`` limits the screen channel (``screen``: green, or blue for blue screens) to the
    average of the other two, ``limit`` to their maximum (gentler); ``amount`` scales the
    removal. ``restore_luminance`` adds the removed Rec.709 luminance back equally to R, G and B
    so that despilled edges do not darken.

    ``physical`` also removes the screen seen *through* the semi-transparent edge, which the
    channel limits turn into a grey fringe: the local screen colour B is estimated from the
    plate where the matte is 0 (α < 0.01; filled under the foreground by pull-push, see
    :func:`rotograph.nodes.common._imaging.pull_push`, then blurred by ``screen_blur`` px σ against
    grain), the compositing equation I = α·F + (1 − α)·B is solved for the straight foreground
    F = (I − (1 − α)·B) / α (the unmixing of Smith & Blinn, "Blue Screen Matting", SIGGRAPH
    1996, with a known backing), and the spill light left on F is limited as in ``average``.
    Where α < 0.1 the division amplifies grain, so F there is extended from the more opaque
    pixels nearby. Premultiplying the output by the same matte gives I − (1 − α)·B: the plate
    with the screen taken out. Needs the matte (the ``matte`` input, else the image's alpha).

    image: Image H×W×3/4 scene-linear, straight (alpha passed through); matte (optional):
    float32 H×W in [0, 1]. Output ``image`` of the same shape, straight.
    """

    type_id = "rotograph.Despill"
    pixel_params = {"screen_blur": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Keying"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    matte = Input(Matte, optional=True, doc="Alpha of the plate (physical mode); else the image's alpha")
    screen = Param(str, "green", choices=("green", "blue"))
    mode = Param(str, "average", choices=("average", "limit", "physical"))
    amount = Param(float, 1.0, range=(0.0, 1.0))
    restore_luminance = Param(float, 1.0, range=(0.0, 1.0))
    screen_blur = Param(float, 2.0, range=(0.0, 100.0), doc="σ (px) of the screen estimate's blur (physical mode)")
    out = Output(Image)

    def passthrough(self):
        return "image" if self.amount == 0 and self.mode != "physical" else None

    def compute(self, ctx, image, matte=None):
        from ..common._kernels import despill

        rgb = image[..., :3]
        if self.mode == "physical":
            _, alpha = split_alpha(image, matte, self.name)
            rgb = unmix(rgb, alpha, blur(pull_push(rgb, (alpha < 0.01).astype(np.float32)), self.screen_blur))
        return despill(image, rgb, SCREEN_CHANNEL[self.screen], self.mode != "limit", np.float32(self.amount),
                       np.float32(self.restore_luminance))


def unmix(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray, reliable: float = 0.1) -> np.ndarray:
    """Straight foreground F of a plate I = α·F + (1 − α)·B with a known background B:
    F = (I − (1 − α)·B) / α, extended (pull-push) from pixels with α ≥ ``reliable`` where α is
    lower. rgb, background: float32 H×W×3; alpha: float32 H×W in [0, 1]. Returns float32 H×W×3."""
    from ..common._kernels import unmix as kernel

    fg = kernel(rgb, alpha, background)
    return pull_push(fg, np.clip(alpha / np.float32(reliable), 0.0, 1.0))
