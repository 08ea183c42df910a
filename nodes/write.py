"""Writers: WriteEXR (multi-layer OpenEXR) and WritePNG (8/16-bit previews).

Every writer writes one file per frame (``out/shot.####.exr``) to a temporary name in the
target folder and renames it into place, so a killed render never leaves a half-written
frame. A writer's cached result is the written file's identity; a re-render skips frames whose
file is still there unchanged.
"""

from __future__ import annotations

import os
import socket
import uuid

import numpy as np

from rotograph import Depth, File, FileOut, Image, Input, Masks, Matte, Node, Normals, Output, Param, Written
from rotograph.colour import convert
from rotograph.errors import ParamError, RotographError
from rotograph.media import expand_frame

from ._colour import colorspace_param, colour_key, convert_rgba, working_space_param

EXR_COMPRESSION = ("none", "rle", "zips", "zip", "piz", "pxr24", "dwaa", "dwab")
HOST = socket.gethostname().replace("-", "_")


def _remove_stale_temporaries(folder: str, stem: str, ext: str) -> None:
    """Delete this host's temporaries of a frame whose writing process is gone."""
    prefix = f".{stem}.tmp-{HOST}-"
    for name in os.listdir(folder):
        if name.startswith(prefix) and name.endswith(ext):
            try:
                pid = int(name[len(prefix):].split("-")[0])
                os.kill(pid, 0)
            except ProcessLookupError:
                try:
                    os.remove(os.path.join(folder, name))
                except FileNotFoundError:
                    pass
            except (ValueError, PermissionError):
                pass


class Writer:
    """What every writer shares: the ``file`` param, checks before rendering, atomic publish,
    and a cached result that stands while the written file is unchanged. Mixed into a
    :class:`Node` (one file per frame) or a :class:`RangeNode` (one movie for all frames)."""

    category = "Output"
    is_writer = True
    frame_dependent = True

    def key_material(self, frame: int):
        names = [getattr(self, p) for p in ("colorspace", "working_space") if p in self.params]
        return colour_key(*names)

    def check(self) -> None:
        if not self.file:
            raise ParamError(f"node '{self.name}': param 'file': no output path set")
        folder = os.path.dirname(os.path.abspath(self.file))
        probe = folder
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
            raise ParamError(f"node '{self.name}': param 'file': cannot write to {folder}")

    def path(self, frame: int) -> str:
        return os.path.abspath(expand_frame(os.path.expanduser(self.file), frame))

    def validate_cached(self, output, value: Written) -> bool:
        try:
            st = os.stat(value.path)
        except OSError:
            return False
        return st.st_size == value.size and st.st_mtime_ns == value.mtime_ns

    def publish(self, frame: int, write) -> Written:
        """Call ``write(tmp_path)`` then rename into place; returns the file identity.

        The temporary file is hidden (``.name.tmp-HOST-PID-RAND.ext``) next to the target; one
        left by a killed render of this host is removed when the frame is written again."""
        path = self.path(frame)
        folder, base = os.path.split(path)
        os.makedirs(folder, exist_ok=True)
        stem, ext = os.path.splitext(base)
        _remove_stale_temporaries(folder, stem, ext)
        tmp = os.path.join(folder, f".{stem}.tmp-{HOST}-{os.getpid()}-{uuid.uuid4().hex[:6]}{ext}")
        try:
            write(tmp)
            os.replace(tmp, path)
        except Exception as e:
            if os.path.exists(tmp):
                os.remove(tmp)
            if isinstance(e, RotographError):
                raise
            raise RotographError(f"{path}: cannot write ({type(e).__name__}: {e})") from e
        st = os.stat(path)
        return Written(path, st.st_size, st.st_mtime_ns)


class FileWriter(Writer, Node):
    """Base of the writers of one file per frame."""

    file = Param(FileOut, "", doc="Output path with a frame pattern, e.g. render/shot.####.exr",
                 ui={"widget": "file_save"})
    written = Output(File)


class WriteEXR(FileWriter):
    """Write a multi-layer OpenEXR per frame from typed inputs.

    Layers: ``rgba`` → R, G, B(, A) converted from ``working_space`` to ``colorspace`` (EXR
    convention: premultiplied — put a Premult before it); ``matte`` → ``matte.A``; ``depth`` →
    ``depth.Z`` (``depth_type``, float by default: half loses Z precision past ~2048 units);
    ``normals`` → ``N.X``, ``N.Y``, ``N.Z``; ``masks`` → Cryptomatte (``crypto_layer``00.RGBA, …,
    always float, manifest in the header; see :mod:`rotograph.nodes.cryptomatte`).
    Each layer has its pixel type (``pixel_type`` for rgba, ``matte_type``, ``depth_type``,
    ``normals_type``: half or float); compression ZIP, PIZ, DWAA, DWAB, …;
    ``multipart`` writes each layer as its own part (named rgba, matte, depth, N, and the
    Cryptomatte layer). The header carries ``rotograph/frame``, ``rotograph/key`` (the cache key
    of this frame: a hash of the graph upstream) and ``rotograph/software``.
    Output ``written``: the file.
    """

    type_id = "rotograph.WriteEXR"

    rgba = Input(Image, optional=True, doc="Colour, premultiplied")
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

    def compute(self, ctx, rgba, matte, depth, normals, masks):
        import OpenEXR

        import rotograph

        from .cryptomatte import encode

        def typed(pixel_type):
            return np.float16 if pixel_type == "half" else np.float32

        layers: dict[str, dict[str, np.ndarray]] = {}
        if rgba is not None:
            rgba = convert_rgba(rgba, self.working_space, self.colorspace)
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
                  "rotograph/software": f"rotograph {rotograph.__version__}"}
        if masks is not None:
            channels, crypto_header = encode(masks, self.crypto_layer, self.crypto_levels)
            layers[self.crypto_layer] = channels
            header.update(crypto_header)
        if not layers:
            raise RotographError("no input connected: connect rgba, matte, depth, normals or masks")
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


class WritePNG(FileWriter):
    """Write an 8- or 16-bit PNG per frame (previews, review).

    image: Image H×W×3/4 in ``working_space``, or matte: float32 H×W (written as grey, with
    no colour conversion). Image values are converted to ``colorspace`` (sRGB by default) and quantised; alpha
    is written as is.
    """

    type_id = "rotograph.WritePNG"

    image = Input(Image, optional=True)
    matte = Input(Matte, optional=True)
    bit_depth = Param(int, 8, choices=(8, 16))
    colorspace = colorspace_param("sRGB", "Encoding of the PNG")
    working_space = working_space_param()

    def compute(self, ctx, image, matte):
        import cv2

        if image is None and matte is None:
            raise RotographError("no input connected: connect image or matte")
        if image is not None:
            src = image
            rgb = convert(src[..., :3], self.working_space, self.colorspace)
        else:  # a matte is coverage, not colour: written as is
            src = rgb = np.dstack([matte] * 3)
        planes = [rgb] + ([src[..., 3:4]] if src.shape[2] == 4 else [])
        top = 255 if self.bit_depth == 8 else 65535
        out = (np.clip(np.dstack(planes), 0, 1) * top + 0.5).astype(np.uint8 if self.bit_depth == 8 else np.uint16)
        out = cv2.cvtColor(out, cv2.COLOR_RGBA2BGRA if out.shape[2] == 4 else cv2.COLOR_RGB2BGR)

        def write(tmp):
            if not cv2.imwrite(tmp, out):
                raise RotographError(f"{tmp}: OpenCV could not write the PNG")

        return self.publish(ctx.frame, write)
