"""Bad command-line values and bad files give a one-line ``error: …`` naming the value at
fault and the exit code of its kind (README, "Exit codes": 2 usage, 3 graph, 4 input, 5 output)
— never a traceback. Each case runs the real CLI entry point."""

from __future__ import annotations

import importlib.util
import json

import pytest

import rotograph
from rotograph.interop.cli import main

from conftest import GRAPHS

QUICKSTART = str(GRAPHS / "quickstart.json")


def run_cli(capsys, *argv, code: int = 3) -> str:
    """Run ``rotograph *argv``; assert exit ``code`` and one ``error:`` line without a traceback."""
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert rc == code, (rc, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize("argv, expected", [
    (["render", QUICKSTART, "--cache-size", "5X"], "--cache-size '5X': cannot read a size"),
    (["render", QUICKSTART, "--memory", "foo"], "--memory 'foo': cannot read a size"),
    (["render", QUICKSTART, "--memory", "infG"], "--memory 'infG': cannot read a size"),
    (["cache", "prune", "--max-size", "5X"], "--max-size '5X': cannot read a size"),
    (["render", QUICKSTART, "--retries", "-1"], "--retries '-1': expected a whole number ≥ 0"),
    (["render", QUICKSTART, "--workers", "0"], "--workers '0': expected a whole number ≥ 1"),
    (["render", QUICKSTART, "--workers", "-1"], "--workers '-1': expected a whole number ≥ 1"),
    (["render", QUICKSTART, "--workers", "two"], "--workers 'two': expected a whole number ≥ 1"),
    (["render", QUICKSTART, "--frames", "1001x"], "--frames: cannot read '1001x'"),
    (["export-nuke", QUICKSTART, "-o", "x.nk", "--frames", "1010-1001"], "--frames: '1010-1001' is an empty range"),
])
def test_bad_option_values(capsys, tmp_path, argv, expected):
    if argv[0] == "cache":
        argv = [*argv, "--cache", str(tmp_path / "cache")]
    assert expected in run_cli(capsys, *argv, code=2)


def test_render_api_refuses_workers_and_retries(registry, tmp_path):
    g = rotograph.load(QUICKSTART, registry)
    with pytest.raises(rotograph.GraphError, match="workers=0"):
        rotograph.render(g, "1001", workers=0, cache=rotograph.Cache())
    with pytest.raises(rotograph.GraphError, match="retries=-1"):
        rotograph.render(g, "1001", retries=-1, cache=rotograph.Cache())


def test_local_cluster_of_no_workers(capsys):
    assert "--scheduler 'local:0': expected local:N with N ≥ 1" in run_cli(
        capsys, "render", QUICKSTART, "--scheduler", "local:0", "-q", code=2)


def test_cache_that_is_a_file(capsys, tmp_path):
    path = tmp_path / "cache.bin"
    path.write_bytes(b"not a folder")
    line = run_cli(capsys, "render", QUICKSTART, "--cache", str(path), "-q", code=5)
    assert f"cache {path}: is a file, not a folder" in line
    assert path.read_bytes() == b"not a folder"


def test_cache_url_without_its_filesystem_package(capsys):
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
    line = run_cli(capsys, "render", QUICKSTART, "--cache", "s3://bucket/rotograph", "-q", code=5)
    assert line == "error: cache s3://bucket/rotograph: the s3:// filesystem needs the s3fs package: pip install s3fs"
    line = run_cli(capsys, "cache", "stats", "--cache", "s3://bucket/rotograph", code=5)
    assert "pip install s3fs" in line


def test_cache_stats_on_a_missing_path_creates_nothing(capsys, tmp_path):
    missing = tmp_path / "no" / "cache"
    for action, says in (("stats", "nothing to show"), ("prune", "nothing to prune"), ("clear", "nothing to clear")):
        assert main(["cache", action, "--cache", str(missing)]) == 0
        out = capsys.readouterr().out
        assert f"cache: {missing}" in out and f"no cache at this path: {says}" in out
    assert not (tmp_path / "no").exists()


def test_deeply_nested_json(capsys, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert "deep.json: malformed JSON: nested deeper than Python can parse" in run_cli(capsys, "validate", str(deep))
    doc = json.loads((GRAPHS / "quickstart.json").read_text())
    nested: list = [0, 0]
    for _ in range(200):  # deep, yet parseable: refused with the path where it goes too deep
        nested = [nested]
    doc["ui"]["read"]["pos"] = nested
    deep.write_text(json.dumps(doc))
    line = run_cli(capsys, "validate", str(deep))
    assert "deep.json: ui.read.pos.0.0.0.0.0…: nested deeper than 64 levels" in line


def test_prompt_points_that_are_not_a_list(capsys, tmp_path):
    line = run_cli(capsys, "validate", QUICKSTART, "--set", 'track.prompts=[{"frame": 1041, "points": 5}]')
    assert "param 'prompts': [0].points: expected a list of [x, y, label], got 5" in line
    doc = json.loads((GRAPHS / "quickstart.json").read_text())
    doc["nodes"]["track"]["params"]["prompts"][0]["points"] = 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert "bad.json: nodes.track.params.prompts: [0].points: expected a list" in run_cli(capsys, "validate", str(bad))


def test_export_nuke_into_a_missing_folder(capsys, tmp_path):
    nk = tmp_path / "missing" / "shot.nk"
    line = run_cli(capsys, "export-nuke", QUICKSTART, "-o", str(nk), code=5)
    assert line == f"error: {nk}: cannot write the Nuke script (folder {nk.parent} does not exist)"


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(rotograph.RotographError, match="--workers '0'"):
        main(["--debug", "render", QUICKSTART, "--workers", "0"])
