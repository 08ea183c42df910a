"""Colour management through OpenColorIO: round trips, known answers, $OCIO, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import rotograph
from rotograph import Context

CTX = Context(1001, "cs")


def cs(registry, src, dst):
    return registry.get("rotograph.ColorSpace")("cs", input_space=src, colorspace=dst)


@pytest.mark.parametrize("src,dst", [("sRGB", "ACEScg"), ("linear", "ACES2065-1"), ("ACEScg", "ACEScct"),
                                     ("Rec.709", "ARRI LogC4"), ("linear", "Linear P3-D65")])
def test_round_trip_is_identity(registry, src, dst):
    x = np.random.default_rng(0).random((32, 32, 4), dtype=np.float32)
    there = cs(registry, src, dst).compute(CTX, x)
    back = cs(registry, dst, src).compute(CTX, there)
    assert np.abs(back - x).max() < 1e-4
    assert np.array_equal(back[..., 3], x[..., 3])  # alpha untouched
    assert np.abs(there[..., :3] - x[..., :3]).max() > 1e-3  # it did convert


def test_known_answer_rec709_to_acescg(registry):
    red = np.zeros((1, 1, 3), np.float32)
    red[..., 0] = 1
    out = cs(registry, "linear", "ACEScg").compute(CTX, red)[0, 0]
    assert np.allclose(out, [0.6131, 0.0702, 0.0206], atol=2e-3)  # the Rec.709 → AP1 matrix's first column
    mid = np.full((1, 1, 3), 0.5, np.float32)  # sRGB 0.5 decodes to 0.2140 linear
    assert np.allclose(cs(registry, "sRGB Encoded Rec.709 (sRGB)", "linear").compute(CTX, mid), 0.21404, atol=1e-4)


def test_8bit_srgb_plate_round_trips_exactly_through_acescg(registry, tmp_path):
    codes = np.arange(256, dtype=np.uint8)
    plate = np.dstack([np.tile(codes, (3, 1)), np.tile(codes[::-1], (3, 1)), np.tile(codes, (3, 1)) // 2])
    cv2.imwrite(str(tmp_path / "p.1001.png"), cv2.cvtColor(plate, cv2.COLOR_RGB2BGR))
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(tmp_path / "p.####.png"), colorspace="srgb_tx", working_space="ACEScg")
    g.add("rotograph.WritePNG", "out", file=str(tmp_path / "o.####.png"), colorspace="sRGB", working_space="acescg")
    g.connect("read.image", "out.image")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    back = cv2.cvtColor(cv2.imread(str(tmp_path / "o.1001.png")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(back, plate)
    assert g.nodes["read"].colorspace == "sRGB Encoded Rec.709 (sRGB)"  # aliases become canonical names


def test_unknown_colourspace_is_refused_with_a_suggestion(registry):
    with pytest.raises(rotograph.ParamError,
                       match=r"node 'cs'.*param 'colorspace'.*unknown colourspace 'ACEScgg'.*did you mean 'ACEScg'"):
        cs(registry, "linear", "ACEScgg")
    doc = rotograph.dumps(rotograph.Graph(registry))
    g = rotograph.loads(doc, registry)
    g.add("rotograph.Read", "read")
    text = rotograph.dumps(g).replace('"colorspace": "auto"', '"colorspace": "sRGBB"')
    with pytest.raises(rotograph.GraphError) as e:
        rotograph.loads(text, registry)
    assert e.value.path == "nodes.read.params.colorspace" and "did you mean 'sRGB'" in str(e.value)


OCIO_CONFIG = """ocio_profile_version: 2
roles:
  default: lin
  scene_linear: lin
displays:
  screen:
    - !<View> {name: raw, colorspace: lin}
colorspaces:
  - !<ColorSpace>
    name: lin
    isdata: false
  - !<ColorSpace>
    name: studio_gamma3
    isdata: false
    to_scene_reference: !<ExponentTransform> {value: [3, 3, 3, 1]}
"""


def test_user_config_from_ocio_environment(registry, tmp_path, monkeypatch):
    path = tmp_path / "studio.ocio"
    path.write_text(OCIO_CONFIG)
    monkeypatch.setenv("OCIO", str(path))
    node = cs(registry, "studio_gamma3", "lin")
    out = node.compute(CTX, np.full((2, 2, 3), 0.5, np.float32))
    assert np.allclose(out, 0.125, atol=1e-5)  # 0.5 ** 3
    with pytest.raises(rotograph.ParamError, match="unknown colourspace 'ACEScg'"):
        cs(registry, "lin", "ACEScg")  # not in this config
