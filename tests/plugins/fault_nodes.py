"""Test double for fault tests: passes a matte through and fails on chosen frames."""

import os

from rotograph import Input, Matte, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy


class FailAt(Node):
    """Pass ``matte`` through; raise on the frames listed in ``frames`` (comma separated).
    ``mode``: ``always`` fails every time; ``once`` fails the first attempt of each such frame
    (remembered by a marker file in ``marker_dir``), like a flaky farm machine."""

    type_id = "test.FailAt"
    cache_policy = CachePolicy.MEMORY_ONLY
    matte = Input(Matte)
    frames = Param(str, "")
    mode = Param(str, "always", choices=("always", "once"))
    marker_dir = Param(str, "")
    out = Output(Matte)

    def compute(self, ctx, matte):
        bad = {int(f) for f in self.frames.split(",") if f.strip()}
        if ctx.frame in bad:
            if self.mode == "always":
                raise RotographError(f"injected failure at frame {ctx.frame}")
            marker = os.path.join(self.marker_dir, f"failed.{ctx.frame}")
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise RotographError(f"injected flaky failure at frame {ctx.frame}")
        return matte




class GPUMark(Node):
    """Test double for worker resources: needs a "GPU" worker; records the pid that ran it."""

    type_id = "test.GPUMark"
    cache_policy = CachePolicy.MEMORY_ONLY
    resources = {"GPU": 1}
    matte = Input(Matte)
    marker_dir = Param(str, "")
    out = Output(Matte)

    def compute(self, ctx, matte):
        open(os.path.join(self.marker_dir, f"ran.{ctx.frame}.{os.getpid()}"), "w").close()
        return matte


def register(registry):
    registry.add(FailAt)
    registry.add(GPUMark)
