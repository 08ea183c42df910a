"""The node author's contract: registry errors, plugins imported once, misuse refused at
registration, and a range writer that walks the whole shot stopped early."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import rotograph
from rotograph import (FileOut, FrameWriter, GraphError, Image, Input, Matte, Node, Output, Param, RangeNode, RangeWriter,
                       Reach, Registry, RegistryError, UnknownNodeTypeError)

from conftest import moving_square, write_png_sequence


def test_unknown_type_is_a_graph_error_with_close_matches():
    reg = Registry.builtin()
    with pytest.raises(GraphError, match=r"unknown node type 'rotograph.Grwo' \(did you mean 'rotograph.Grow'"):
        reg.get("rotograph.Grwo")
    with pytest.raises(UnknownNodeTypeError):  # still a KeyError for code written before
        reg.get("nothing.Like.This")
    with pytest.raises(KeyError):
        reg.get("rotograph.Grwo")
    with pytest.raises(GraphError, match="unknown node type 'rotograph.Fether'"):
        rotograph.Graph(reg).add("rotograph.Fether")


COUNTING_PLUGIN = textwrap.dedent('''
    """Counts its imports in $COUNT_FILE (one line per execution of this module)."""
    import os
    import numpy as np
    from rotograph import FileOut, FrameWriter, Input, Matte, Param

    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write("imported\\n")

    class WriteMean(FrameWriter):
        """Write the mean of a matte per frame as text. matte: float32 H×W in [0, 1]."""
        type_id = "studio.WriteMean"
        matte = Input(Matte)
        file = Param(FileOut, "")

        def compute(self, ctx, matte):
            text = f"{float(np.mean(matte)):.6f}"
            return self.publish(ctx.frame, lambda tmp: open(tmp, "w").write(text))

    def register(registry):
        registry.add(WriteMean)
''')


def test_plugin_folder_is_imported_once_for_a_three_shot_render(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "counting.py").write_text(COUNTING_PLUGIN)
    count = tmp_path / "count.txt"
    monkeypatch.setenv("COUNT_FILE", str(count))
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(folder))
    frames, truth = moving_square(n=4)
    pattern = write_png_sequence(tmp_path / "plate", frames)
    reg = Registry.default()
    g = rotograph.Graph(reg)
    g.add("rotograph.Read", "read", file=pattern)
    g.add("rotograph.Keyer", "alpha")
    g.add("studio.WriteMean", "write", file=str(tmp_path / "default" / "m.####.txt"))
    g.connect("read.image", "alpha.image")
    g.connect("alpha.matte", "write.matte")
    rotograph.save(g, tmp_path / "g.json")
    shots = [rotograph.Shot(name, "1001-1002", {"write.file": str(tmp_path / name / "m.####.txt")})
             for name in ("sh010", "sh020", "sh030")]
    results = rotograph.render_shots(str(tmp_path / "g.json"), shots, cache=rotograph.Cache())
    assert [r.ok for _, r in results] == [True] * 3, results
    for name in ("sh010", "sh020", "sh030"):  # each shot really wrote through the plugin's node
        for f in (1001, 1002):
            want = float(np.mean(g.evaluate("alpha", f)))
            assert float((tmp_path / name / f"m.{f}.txt").read_text()) == pytest.approx(want, abs=1e-6)
    assert count.read_text().splitlines() == ["imported"]  # 1 + 3 registries, 1 import
    # a changed file is imported again (an artist editing a plugin between renders)
    (folder / "counting.py").write_text(COUNTING_PLUGIN + "\n# edited\n")
    assert "studio.WriteMean" in Registry.default()
    assert count.read_text().splitlines() == ["imported"] * 2


# -- misuse refused at registration -----------------------------------------------------------
class NoFile(FrameWriter):
    type_id = "bad.NoFile"
    matte = Input(Matte)

    def compute(self, ctx, matte):
        return self.publish(ctx.frame, lambda tmp: None)


class StrFile(FrameWriter):
    type_id = "bad.StrFile"
    matte = Input(Matte)
    file = Param(str, "")

    def compute(self, ctx, matte):
        return self.publish(ctx.frame, lambda tmp: None)


class FlagOnly(Node):
    type_id = "bad.FlagOnly"
    is_writer = True
    matte = Input(Matte)
    file = Param(FileOut, "")
    out = Output(Matte)

    def compute(self, ctx, matte):
        return matte


class PerFrameWithRange(FrameWriter):
    type_id = "bad.PerFrameWithRange"
    matte = Input(Matte)
    file = Param(FileOut, "")

    def compute_range(self, ctx, segment, pull, resume=None):
        yield from ()


class RangeWithCompute(RangeNode):
    type_id = "bad.RangeWithCompute"
    matte = Input(Matte)
    out = Output(Matte)

    def compute(self, ctx, matte):
        return matte


class WrongKeyframes(RangeNode):
    type_id = "bad.WrongKeyframes"
    matte = Input(Matte)
    prompts = Param(rotograph.Prompts, [])
    out = Output(Matte)

    def reach(self):
        return Reach(causal=True, keyframes=("keyframes",))

    def compute_range(self, ctx, segment, pull, resume=None):
        for f in segment.frames:
            yield f, pull(f)["matte"]


@pytest.mark.parametrize("cls, message", [
    (NoFile, r"bad.NoFile .*is a writer without a 'file' param: declare file = Param\(FileOut"),
    (StrFile, r"param 'file' is a str, not a path kind"),
    (FlagOnly, r"sets is_writer = True but is not a writer: subclass rotograph.FrameWriter"),
    (PerFrameWithRange, r"per-frame node but defines compute_range\(\), which the engine never calls"),
    (RangeWithCompute, r"range node but defines compute\(\), which the engine never calls"),
    (WrongKeyframes, r"reach\(\) names keyframe params \['keyframes'\]"),
])
def test_registration_refuses_misuse(cls, message):
    reg = Registry()
    with reg.source("plugin file 'studio.py'"), pytest.raises(RegistryError, match=message) as e:
        reg.add(cls)
    assert str(e.value).startswith("plugin file 'studio.py': ") and "\n" not in str(e.value)
    assert cls.type_id not in reg


def test_is_writer_follows_from_the_writer_classes():
    reg = Registry.builtin()
    for type_id, cls in reg.node_types.items():
        assert cls.is_writer == issubclass(cls, rotograph.Writer), type_id
    assert reg.get("rotograph.WriteEXR").is_writer and not reg.get("rotograph.Grow").is_writer


# -- the trap: a writer that walks the whole shot -------------------------------------------
class WalksTheShot(RangeWriter):
    """Writes one text file with the mean of every frame it pulls — of the whole segment."""

    type_id = "trap.WalksTheShot"
    image = Input(Image)
    file = Param(rotograph.output_file_kind("text_out", (".txt",), "text files"), "")

    def compute_range(self, ctx, segment, pull, resume=None):
        means = [float(np.mean(pull(f)["image"])) for f in segment.frames]  # the trap: not ctx.frames
        written = self.publish(segment.frames[0], lambda tmp: open(tmp, "w").write(repr(means)))
        for f in ctx.frames:
            yield f, written


class WalksTheRender(WalksTheShot):
    """The same writer done right: the frames this render writes, each pulled once."""

    type_id = "trap.WalksTheRender"

    def compute_range(self, ctx, segment, pull, resume=None):
        means = [float(np.mean(pull(f)["image"])) for f in ctx.frames]
        written = self.publish(ctx.frames[0], lambda tmp: open(tmp, "w").write(repr(means)))
        for f in ctx.frames:
            yield f, written


def _render(tmp_path, cls, n=40, file="{name}.txt"):
    frames, _ = moving_square(n=n, size=(48, 64), side=8, step=1)
    reg = Registry.builtin()
    reg.add(cls)
    g = rotograph.Graph(reg)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", frames))
    g.add(cls.type_id, "write", file=str(tmp_path / file.format(name=cls.__name__)))
    g.connect("read.image", "write.image")
    return rotograph.render(g, "1003-1007", cache=rotograph.Cache())


def test_a_range_writer_walking_the_whole_shot_is_stopped(tmp_path):
    report = _render(tmp_path, WalksTheShot)
    assert not report.ok
    assert "pulled 11 input frames for the 5 frames this render writes: iterate ctx.frames" in report.error
    assert report.stats.computes["read"] == 10  # not 40: stopped at twice the frames written
    good = _render(tmp_path, WalksTheRender)
    assert good.ok, good.error
    assert good.stats.computes["read"] == 5 and len(eval((tmp_path / "WalksTheRender.txt").read_text())) == 5


def test_a_frame_writer_sees_one_frame(tmp_path):
    seen = []

    class Spy(FrameWriter):
        type_id = "trap.Spy"
        image = Input(Image)
        file = Param(FileOut, "")

        def compute(self, ctx, image):
            seen.append((ctx.frame, ctx.frames))
            return self.publish(ctx.frame, lambda tmp: open(tmp, "w").write("x"))

    report = _render(tmp_path, Spy, n=10, file="spy.####.txt")
    assert report.ok and sorted(seen) == [(f, ()) for f in range(1003, 1008)]
    assert report.stats.computes["read"] == 5


def test_an_output_may_carry_an_inputs_name_but_not_anothers_output():
    """``Output(..., name=)``: a node that takes and gives a matte names both ``matte``; links and
    compute's dict (several outputs) use the port name. Two outputs of one name are refused when the class is made."""

    class Soften(rotograph.Node):
        type_id = "test.Soften"
        matte = rotograph.Input(rotograph.Matte)
        matte_result = rotograph.Output(rotograph.Matte, name="matte")

        def compute(self, ctx, matte):
            return matte * 0.5

    assert list(Soften.inputs) == ["matte"] and list(Soften.outputs) == ["matte"]
    reg = rotograph.Registry.builtin()
    reg.add(Soften)
    g = rotograph.Graph(reg)
    g.add("rotograph.Read", "read", file="sample:bigbuckbunny.mp4")
    g.add("rotograph.Keyer", "key")
    g.add("test.Soften", "soft")
    g.add("rotograph.Grow", "grow")
    g.connect("read.image", "key.image")
    g.connect("key.matte", "soft.matte")
    g.connect("soft.matte", "grow.matte")
    assert g.inputs_of("grow") == {"matte": ("soft", "matte")}
    assert np.array_equal(g.evaluate("soft", 1001, "matte"), g.evaluate("key", 1001, "matte") * 0.5)
    with pytest.raises(TypeError, match="two outputs are named 'matte'"):
        type("Twice", (rotograph.Node,), {"type_id": "test.Twice", "a": rotograph.Output(rotograph.Matte, name="matte"),
                                          "matte": rotograph.Output(rotograph.Matte)})
