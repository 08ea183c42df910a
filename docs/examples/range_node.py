"""A range node: a matte that leaves a fading trail, restarted at keyframes (example 2)."""

import numpy as np

from rotograph import Input, Matte, Output, Param, ParamKind, RangeNode, Reach, Segment


class Restarts(ParamKind):
    """Keyframes where the trail starts afresh: a list of ``{"frame": int}``, sorted."""

    name = "restarts"

    @classmethod
    def canonical(cls, value):
        if not isinstance(value, list) or not all(isinstance(k, dict) and set(k) == {"frame"} for k in value):
            raise ValueError('expected a list of {"frame": <int>}')
        return sorted(({"frame": int(k["frame"])} for k in value), key=lambda k: k["frame"])


class MatteTrail(RangeNode):
    """A motion trail: each frame keeps the brightest of its matte and the previous result
    faded by ``decay``: out(f) = max(matte(f), decay · out(f − 1)).

    matte: float32 H×W in [0, 1]. Output ``out``: float32 H×W in [0, 1]. The trail runs
    forwards from the first frame and from each ``restarts`` keyframe (which starts it afresh).
    Causal: frame f depends on the mattes from its run's start to f, so a restart added at
    frame k recomputes frames from k only, and an interrupted render resumes from the last
    cached frame.
    """

    type_id = "studio.MatteTrail"
    version = 1
    category = "Matte"
    resumable = True  # compute_range accepts resume=(frame, outputs at that frame)

    matte = Input(Matte)
    decay = Param(float, 0.8, range=(0.0, 1.0), doc="How much of the trail survives a frame")
    restarts = Param(Restarts, [], doc="Frames where the trail starts afresh")
    out = Output(Matte)

    def reach(self):
        return Reach(causal=True, keyframes=("restarts",))

    def segments(self, first, last):
        starts = [first] + [k["frame"] for k in self.restarts if first < k["frame"] <= last]
        ends = starts[1:] + [last + 1]
        return [Segment(tuple(range(a, b))) for a, b in zip(starts, ends)]

    def compute_range(self, ctx, segment, pull, resume=None):
        trail, frames = None, segment.frames
        if resume is not None:  # go on after the last cached frame, its output as the state
            trail, frames = resume[1]["out"], frames[frames.index(resume[0]) + 1:]
        for f in frames:
            matte = pull(f)["matte"]
            trail = matte.copy() if trail is None else np.maximum(matte, self.decay * trail)
            yield f, trail


def register(registry):
    """Register the node (and nothing else: the param kind needs no registration)."""
    registry.add(MatteTrail)
