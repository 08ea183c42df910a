"""A plugin writer that the engine knows nothing about: a text file per frame, saying the frame
and the mean of its matte. It only subclasses rotograph.FrameWriter and publishes its file."""

import numpy as np

from rotograph import FileOut, FrameWriter, Input, Matte, Param


class WriteText(FrameWriter):
    """Write ``frame <n> mean <matte mean>`` per frame. matte: float32 H×W."""

    type_id = "test.WriteText"
    matte = Input(Matte)
    file = Param(FileOut, "", doc="out/report.####.txt")

    def compute(self, ctx, matte):
        text = f"frame {ctx.frame} mean {float(np.mean(matte)):.6f}\n"

        def write(tmp):
            with open(tmp, "w") as f:
                f.write(text)

        return self.publish(ctx.frame, write)


def register(registry):
    registry.add(WriteText)
