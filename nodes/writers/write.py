"""WriteEXR (multi-layer OpenEXR) and the base of the built-in writers of one file per frame.

Writers follow the engine's Writer protocol (:mod:`rotograph.core.writer`): one file per frame
(``out/shot.####.exr``) written to a temporary name in the target folder and renamed into
place, so a killed render never leaves a half-written frame. A writer's cached result is the
written file's identity; a re-render skips frames whose file is still there unchanged.
"""

from __future__ import annotations

import numpy as np

from rotograph import Delivery, Depth, FileOut, FrameWriter, Image, Input, Masks, Matte, Normals, Param
from rotograph.core.node import Upgrade
from rotograph.errors import RotographError
from rotograph.core.params import output_file_kind  # noqa: F401  (was defined here; the writers import it from this module)

from ..common._colour import ColourKeyed, colorspace_param, convert_rgba, working_space_param

EXR_COMPRESSION = ("none", "rle", "zips", "zip", "piz", "pxr24", "dwaa", "dwab")
EXR_LAYERS = (("matte", "matte", ("A",)), ("depth", "depth", ("Z",)), ("normals", "N", ("X", "Y", "Z")))


class FileWriter(ColourKeyed, FrameWriter):
    """Base of the built-in writers of one file per frame: a ``file`` param with a frame
    pattern; the OCIO config enters the key when a colourspace goes through OpenColorIO."""

    file = Param(FileOut, "", doc="Output path with a frame pattern, e.g. render/shot.####.exr",
                 ui={"widget": "file_save"})


def exr_timing(ctx) -> dict:
    """EXR header attributes for the source's frame rate (``framesPerSecond``, exact) and the
    SMPTE ``timeCode`` of ``ctx.frame``, when the source has them."""
    import OpenEXR

    from rotograph.io.timing import parse_timecode

    header = {}
    if ctx.timing is None or ctx.timing.rate is None:
        return header
    header["framesPerSecond"] = ctx.timing.rate
    text = ctx.timing.timecode_at(ctx.frame)
    if text:
        tc = OpenEXR.TimeCode()
        tc.hours, tc.minutes, tc.seconds, tc.frame, tc.dropFrame = parse_timecode(text)
        header["timeCode"] = tc
    return header


class WriteEXR(FileWriter):
    """Write a multi-layer OpenEXR per frame from typed inputs.

    Layers: ``image`` → R, G, B(, A) converted from ``working_space`` to ``colorspace`` (EXR
    convention: premultiplied — put a Premult before it); ``matte`` → ``matte.A``; ``depth`` →
    ``depth.Z`` (``depth_type``, float by default: half loses Z precision past ~2048 units);
    ``normals`` → ``N.X``, ``N.Y``, ``N.Z``; ``masks`` → Cryptomatte (``crypto_layer``00.RGBA, …,
    always float, manifest in the header; see :mod:`rotograph.nodes.writers.cryptomatte`).
    Each layer has its pixel type (``pixel_type`` for rgba, ``matte_type``, ``depth_type``,
    ``normals_type``: half or float); compression ZIP, PIZ, DWAA, DWAB, …;
    ``multipart`` writes each layer as its own part (named rgba, matte, depth, N, and the
    Cryptomatte layer). The header carries ``rotograph/frame``, ``rotograph/key`` (the cache key
    of this frame: a hash of the graph upstream), ``rotograph/software`` and, when the source
    has them, ``framesPerSecond`` (exact, e.g. 24000/1001) and the frame's SMPTE ``timeCode``.
    Output ``written``: the file.
    """

    type_id = "rotograph.WriteEXR"
    version = 2  # 2: input rgba renamed image (docs/naming.md); the EXR layer keeps its name

    image = Input(Image, optional=True, doc="Colour, premultiplied (the rgba layer)")
    matte = Input(Matte, optional=True)
    depth = Input(Depth, optional=True)
    normals = Input(Normals, optional=True)
    masks = Input(Masks, optional=True, doc="Objects, written as Cryptomatte")
    pixel_type = Param(str, "half", choices=("half", "float"), doc="Pixel type of the rgba layer")
    matte_type = Param(str, "half", choices=("half", "float"))
    depth_type = Param(str, "float", choices=("half", "float"))
    normals_type = Param(str, "half", choices=("half", "float"))
    compression = Param(str, "zip", choices=EXR_COMPRESSION)
    multipart = Param(bool, False, doc="One part per layer")
    crypto_layer = Param(str, "CryptoObject", doc="Cryptomatte layer name")
    crypto_levels = Param(int, 6, choices=(2, 4, 6, 8, 10, 12), doc="Cryptomatte ranks (ID/coverage pairs)")
    colorspace = colorspace_param("linear", "Colourspace of the written RGB (linear: the working space's "
                                  "primaries, or ACEScg, ACES2065-1, …)")
    working_space = working_space_param()

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named the ``image`` input ``rgba``."""
        up = Upgrade(params)
        return up.rename(name, inputs={"rgba": "image"}) if from_version < 2 else up

    def compute(self, ctx, image, matte, depth, normals, masks):
        import OpenEXR

        import rotograph

        from .cryptomatte import encode

        def typed(pixel_type):
            return np.float16 if pixel_type == "half" else np.float32

        layers: dict[str, dict[str, np.ndarray]] = {}
        if image is not None:
            rgba = convert_rgba(image, self.working_space, self.colorspace)
            layers["rgba"] = {c: rgba[..., i].astype(typed(self.pixel_type)) for i, c in enumerate("RGBA"[: rgba.shape[2]])}
        if matte is not None:
            layers["matte"] = {"matte.A": matte.astype(typed(self.matte_type))}
        if depth is not None:
            layers["depth"] = {"depth.Z": depth.z.astype(typed(self.depth_type))}
        if normals is not None:
            layers["N"] = {f"N.{c}": normals[..., i].astype(typed(self.normals_type)) for i, c in enumerate("XYZ")}
        header = {"compression": getattr(OpenEXR, f"{'NO' if self.compression == 'none' else self.compression.upper()}"
                                                  f"_COMPRESSION"),
                  "type": OpenEXR.scanlineimage, "rotograph/frame": int(ctx.frame), "rotograph/key": ctx.key,
                  "rotograph/software": f"rotograph {rotograph.__version__}", **exr_timing(ctx)}
        if ctx.format is not None:  # the plate's pixel aspect (2.0: anamorphic), as Nuke reads it
            header["pixelAspectRatio"] = float(ctx.format.pixel_aspect)
        if masks is not None:
            channels, crypto_header = encode(masks, self.crypto_layer, self.crypto_levels)
            layers[self.crypto_layer] = channels
            header.update(crypto_header)
        if not layers:
            raise RotographError("no input connected: connect image, matte, depth, normals or masks")
        shapes = {name: next(iter(chans.values())).shape for name, chans in layers.items()}
        if len(set(shapes.values())) != 1:
            raise RotographError(f"layers differ in size: {shapes}")
        layers = {n: {k: np.ascontiguousarray(v) for k, v in ch.items()} for n, ch in layers.items()}

        def write(tmp):
            if self.multipart:
                parts = [OpenEXR.Part(dict(header), chans, name) for name, chans in layers.items()]
                with OpenEXR.File(parts) as f:
                    f.write(tmp)
            else:
                with OpenEXR.File(header, {k: v for chans in layers.values() for k, v in chans.items()}) as f:
                    f.write(tmp)

        return self.publish(ctx.frame, write)

    def deliveries(self, connected):
        layers = tuple((layer, chans) for port, layer, chans in EXR_LAYERS if port in connected)
        return [Delivery(self.pattern(), "image", "exr", colorspace=self.colorspace, layers=layers,
                         cryptomatte=self.crypto_layer if "masks" in connected else "")]
