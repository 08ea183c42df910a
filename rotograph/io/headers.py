"""An image file's header without its pixels: size, pixel aspect, channels and bit depth.

:func:`image_header` answers what :func:`rotograph.media.read_image` would return for a file
(the array's width and height, the bit depth, the channel names) plus the pixel aspect the file
declares, by reading the header only — OpenEXR's header for an EXR (multi-part too),
OpenImageIO's spec for PNG/TIFF/JPG/DPX — so probing a 4K plate costs milliseconds, not a
decode.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import MediaError

CHANNEL_ORDER = ("R", "G", "B", "A", "X", "Y", "Z", "red", "green", "blue", "alpha")


def layer_of(channel: str) -> str:
    """``"matte.A"`` → ``"matte"``; ``"R"`` → ``""`` (the default RGBA layer)."""
    return channel.rsplit(".", 1)[0] if "." in channel else ""


def exr_layers(channels) -> list[str]:
    """Layer names of EXR channel names: ``""`` for R/G/B/A, ``matte`` for ``matte.A``, …"""
    return sorted({layer_of(c) for c in channels})


def exr_pick(path: str, chans: list[str], layer: str | None) -> list[str]:
    """The channels of an EXR with channels ``chans`` that :func:`read_image` reads for
    ``layer`` (``None``: RGBA, or the first layer when there is no RGB), in R, G, B, A order, at
    most four. Raises :class:`MediaError` naming the file when the layer is absent, or when the
    RGBA layer has no colour channel."""
    if layer is None:  # describe the file: its RGBA, or else its first layer
        layer = "" if {"R", "G", "B", "Y"} & set(chans) else exr_layers(chans)[0] if chans else ""
    prefix = f"{layer}." if layer else ""
    mine = [c for c in chans if layer_of(c) == layer]
    others = ", ".join(repr(x) for x in exr_layers(chans) if x) or "none"
    if not layer and not {"R", "G", "B", "Y"} & set(mine):  # alpha or data alone is no picture
        raise MediaError(f"{path}: no RGB channels to read as an image (channels: "
                         f"{', '.join(sorted(chans)) or 'none'}); read a layer instead (layers: {others})")
    if not mine:
        raise MediaError(f"{path}: no layer {layer!r} (layers: {', '.join(repr(x) for x in exr_layers(chans))})")
    key = lambda c: (CHANNEL_ORDER.index(c[len(prefix):]) if c[len(prefix):] in CHANNEL_ORDER else 99, c)  # noqa
    return sorted(mine, key=key)[:4]


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header says: ``width`` × ``height`` pixels (an EXR's data window),
    ``bits`` per sample, the channel ``names`` in :func:`~rotograph.media.read_image`'s order
    (the ones read first), and ``pixel_aspect`` (pixel width / height; 2.0 for 2:1 anamorphic)."""

    width: int
    height: int
    bits: int
    names: list[str]
    pixel_aspect: float = 1.0


def _aspect(value) -> float:
    value = float(value or 1.0)
    return value if math.isfinite(value) and value > 0 else 1.0


def _oiio_specs(path: str) -> list:
    """The spec of every subimage (an EXR's parts) of ``path``; :class:`MediaError` when unreadable."""
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise MediaError(f"{path}: unreadable ({oiio.geterror()})")
    try:
        specs, i = [], 0
        while i == 0 or inp.seek_subimage(i, 0):
            specs.append(inp.spec().copy())
            i += 1
        return specs
    finally:
        inp.close()


def _exr_header(path: str, layer: str | None) -> ImageHeader:
    import OpenEXR

    from .exr import _library_messages
    with _library_messages() as messages:
        try:
            with OpenEXR.File(path, header_only=True) as f:  # the header is only valid while open
                parts = [([c.name for c in part.header.get("channels", ())], part.header.get("dataWindow"),
                          part.header.get("pixelAspectRatio", 1.0)) for part in f.parts]
        except (RuntimeError, OSError, ValueError, TypeError, IndexError) as e:
            why = next((m.split(") ", 1)[-1] for m in messages if "EXR_ERR" in m), None) or str(e)
            raise MediaError(f"{path}: not a readable EXR file ({why.replace(repr(path), 'the file')})") from None
    chans = [c for names, _, _ in parts for c in names]
    names = exr_pick(path, chans, layer)
    names = names + sorted(c for c in chans if c not in names)
    _, window, aspect = next(p for p in parts if names[0] in p[0])
    (x0, y0), (x1, y1) = window
    formats = {n: str(fmt) for spec in _oiio_specs(path)
               for n, fmt in zip(spec.channelnames, spec.channelformats or [spec.format] * spec.nchannels)}
    bits = 16 if formats.get(names[0]) == "half" else 32
    return ImageHeader(int(x1 - x0 + 1), int(y1 - y0 + 1), bits, names, _aspect(aspect))


def image_header(path: str, layer: str | None = "") -> ImageHeader:
    """The header of one image file, as :func:`~rotograph.media.read_image` would read the file
    (``layer``: an EXR layer; ``None``: RGBA, or the first layer when there is no RGB), without
    decoding its pixels. Raises :class:`MediaError` naming the file when it cannot be read."""
    ext = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if ext == ".exr":
        return _exr_header(path, layer)
    if layer:
        raise MediaError(f"{path}: only EXR files have layers (layer {layer!r} asked for)")
    spec = _oiio_specs(path)[0]
    n = spec.nchannels
    if ext in (".png", ".tif", ".tiff", ".jpg", ".jpeg") and str(spec.format) in ("uint8", "uint16", "float"):
        names = ["R", "G", "B", "A"][: 4 if n in (2, 4) else 3]  # OpenCV reads grey as RGB
        bits = spec.format.size() * 8
    else:
        names = list(spec.channelnames)[:4]
        bits = spec.get_int_attribute("oiio:BitsPerSample", 0) or spec.format.size() * 8
    return ImageHeader(spec.width, spec.height, bits, names, _aspect(spec.get_float_attribute("PixelAspectRatio",
                                                                                                1.0)))
