"""The inspector in the real window (Xvfb, X events only): a scene-linear colour typed above 1
is stored as typed, and a group's inner params are exposed on it with one click and edited
under the group's own names; the group's ports are named by what they carry."""

from __future__ import annotations

import json

import pytest

import rotograph
from rotograph.editor.model import EditorModel

from conftest import GRAPHS
from editor_session import Session, click_node, missing_tools

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason="needs xvfb, xdotool and imagemagick")


def test_linear_colour_and_group_params(tmp_path):
    m = EditorModel.open(str(GRAPHS / "greenscreen.json"))
    m.collapse(["fillholes", "grow", "feather"], "cleanup")
    graph = tmp_path / "graphs" / "gs.json"
    graph.parent.mkdir()
    m.save(str(graph))
    with Session(tmp_path / "s", graph, size=(1280, 800)) as s:
        p = click_node(s, "keyer")
        w = s.wait(lambda p: p["params"]["keyer.screen_color"]["rect"], "the colour")["params"]["keyer.screen_color"]
        assert w["value"][:3] == pytest.approx([0.08, 0.45, 0.1])
        r = w["rect"]
        s.click(r[0] + 12, r[1] + r[3] / 2)  # the first (red) field
        s.key("ctrl+a")
        s.type("2.5")
        s.key("Return")
        p = s.wait(lambda p: p["graph"]["nodes"]["keyer"]["params"]["screen_color"][0] != 0.08, "the red typed")
        assert p["graph"]["nodes"]["keyer"]["params"]["screen_color"] == [2.5, 0.45, 0.1]  # above 1, as typed

        p = click_node(s, "cleanup")
        assert [n for n in p["canvas"]["pins"] if n.startswith("out:cleanup.")] == ["out:cleanup.matte"]
        e = s.wait(lambda p: p["params"]["grow.size"]["expose"], "grow.size's + button")["params"]["grow.size"]
        s.click(*s.centre(e["expose"]))
        p = s.wait(lambda p: p["graph"]["groups"]["cleanup"]["params"] == {"size": "grow.size"}, "size exposed")
        r = s.wait(lambda p: p["params"]["grow.size"]["rect"], "the exposed field")["params"]["grow.size"]["rect"]
        s.click(*s.centre(r, 0.3), modifier="ctrl")  # a slider: Ctrl+click types a value
        s.type("3.5")
        s.key("Return")
        s.wait(lambda p: p["graph"]["nodes"]["grow"]["params"]["size"] == 3.5, "grow.size = 3.5 through the group")
        s.key("ctrl+s")
        s.wait(lambda p: not p["dirty"], "saved")
        assert "Traceback" not in s.stderr, s.stderr[-3000:]
    saved = json.loads(graph.read_text())
    assert saved["groups"]["cleanup"]["params"] == {"size": "grow.size"}
    assert rotograph.load(graph).nodes["keyer"].screen_color == [2.5, 0.45, 0.1]
