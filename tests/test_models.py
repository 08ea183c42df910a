"""The model manager's logic: weights resolution and identity, offline errors, one load per
process, doctor; and one GPU per worker of a local Dask cluster.

PyTorch and the model packages are optional extras that CI's base environment does not install;
these tests cover what does not need them (and that their absence is reported clearly)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rotograph.interop.models import SPECS, ModelError, ModelManager, Weights, require, resolve_weights

from hf_cache import REVISION, hf_snapshot


@pytest.fixture
def hf_home(tmp_path, monkeypatch):
    """An empty Hugging Face cache, offline."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for spec in SPECS.values():
        monkeypatch.delenv(spec.env_var, raising=False)
    return tmp_path / "hf"


def test_weights_resolution_and_identity(tmp_path, hf_home, monkeypatch):
    spec = SPECS["sam3"]
    ckpt = tmp_path / "sam3.pt"
    ckpt.write_bytes(b"x" * 10)
    hf_snapshot(hf_home, "facebook/sam3", {"sam3.pt": ckpt})
    w = resolve_weights(spec)  # the default HF id, found offline in the cache: keyed by its revision
    assert (w.source, w.identity, w.revision) == ("facebook/sam3", f"hf:{REVISION}", REVISION)
    assert w.path("sam3.pt") == str(hf_home / "hub" / "models--facebook--sam3" / "snapshots" / REVISION / "sam3.pt")
    monkeypatch.setenv(spec.env_var, str(ckpt))
    local = resolve_weights(spec)  # the environment variable beats the HF id; keyed by size and mtime
    st = ckpt.stat()
    assert (local.source, local.identity) == (str(ckpt), f"file:10:{st.st_mtime_ns}") and local.path() == str(ckpt)
    assert resolve_weights(spec, "random") == Weights(spec, "random", "random")  # the node param beats both
    folder = resolve_weights(spec, str(tmp_path))
    assert folder.identity.startswith("folder:") and folder.path("sam3.pt") == str(ckpt)
    ckpt.write_bytes(b"y" * 11)
    assert resolve_weights(spec, str(tmp_path)).identity != folder.identity  # a file changed in the folder
    with pytest.raises(ModelError, match="no such file, and not a Hugging Face id"):
        resolve_weights(spec, "./missing.pt")


def test_a_snapshot_missing_a_file_offline_says_what_to_run(tmp_path, hf_home):
    cfg = tmp_path / "config.json"
    cfg.write_text("{}")
    hf_snapshot(hf_home, "PeiqingYang/MatAnyone2", {"config.json": cfg})  # model.safetensors never downloaded
    w = resolve_weights(SPECS["matanyone2"])
    assert w.identity == f"hf:{REVISION}"
    with pytest.raises(ModelError, match="model.safetensors .*not in the local Hugging Face cache.*"
                                         "huggingface-cli download PeiqingYang/MatAnyone2"):
        w.path()


def test_offline_and_gated_weights_say_what_to_run(hf_home):
    with pytest.raises(ModelError) as e:
        resolve_weights(SPECS["sam3"])
    msg = str(e.value)
    assert "huggingface-cli download facebook/sam3" in msg and "gated" in msg and "ROTOGRAPH_SAM3_WEIGHTS" in msg


def test_one_instance_per_model_weights_identity_and_device():
    built = []
    m = ModelManager()
    make = lambda w, d: built.append((w.identity, d)) or object()  # noqa: E731
    small = Weights(SPECS["da3"], "depth-anything/DA3-SMALL", "hf:aaa", "aaa")
    a = m.get("da3", small, "cpu", make)
    assert m.get("da3", Weights(SPECS["da3"], "/elsewhere/same", "hf:aaa"), "cpu", make) is a  # same identity
    m.get("da3", Weights(SPECS["da3"], "depth-anything/DA3-SMALL", "hf:bbb", "bbb"), "cpu", make)  # new revision
    m.get("da3", small, "cuda", make)
    assert built == [("hf:aaa", "cpu"), ("hf:bbb", "cpu"), ("hf:aaa", "cuda")]


def test_missing_package_is_explained():
    from rotograph.interop.models import ModelSpec

    spec = ModelSpec("Imaginary", "rotograph_no_such_package", "imaginary", "pip install imaginary", "x/y", "ROTOGRAPH_X",
                     ("w.pt",))
    with pytest.raises(ModelError, match="Imaginary needs the 'rotograph_no_such_package' package.*pip install imaginary"):
        require(spec)


def test_doctor_cli():
    import importlib.metadata

    out = subprocess.run([sys.executable, "-m", "rotograph.cli", "doctor"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for item in ("torch", "sam3", "depth_anything_3", "matanyone2", "sam3 weights"):
        assert f"{item}:" in out.stdout
    for spec in SPECS.values():  # an installed package is reported by its distribution's version
        try:
            version = importlib.metadata.version(spec.dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        line = next(ln for ln in out.stdout.splitlines() if ln.strip().startswith(f"{spec.module}:"))
        assert version in line and "not installed" not in line, line


def test_local_scheduler_gives_each_worker_its_own_gpu(monkeypatch):
    """``--scheduler local:N`` on a machine with GPUs: worker i sees only GPU i (round robin past
    the count) and offers the GPU resource the AI nodes' tasks ask for."""
    from rotograph.engine.backends import DaskBackend
    from rotograph.interop.models import visible_gpus, worker_gpu

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # what a 2-GPU node's scheduler hands this job
    assert visible_gpus() == ["3", "5"] and [worker_gpu(["3", "5"], i) for i in range(3)] == ["3", "5", "3"]
    backend = DaskBackend("local:2")
    try:
        info = backend.client.scheduler_info()["workers"]
        seen = backend.client.run(lambda: __import__("os").environ.get("CUDA_VISIBLE_DEVICES"))
        names = {addr: w["name"] for addr, w in info.items()}
        assert {names[a]: v for a, v in seen.items()} == {0: "3", 1: "5"}
        assert all(w["resources"] == {"GPU": 1} for w in info.values())
    finally:
        backend.close()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []  # none visible: workers stay as they were


MODEL_PLUGIN = '''
from rotograph.interop.models import ModelSpec

MATTER = ModelSpec("Studio Matter", "studio_matter", "studio-matter", "pip install studio-matter",
                   "studio/matter-v1", "STUDIO_MATTER_WEIGHTS", ("model.safetensors",))


def register(registry):
    registry.add_model("{key}", MATTER)
'''


def test_a_plugin_registers_a_model_family_as_it_registers_nodes(tmp_path, monkeypatch, hf_home):
    """Model families are registered like node types: the built-in nodes add theirs, a plugin
    folder adds its own (doctor then reports it, SPECS finds it), and a key claimed twice is refused."""
    from rotograph import Registry, RegistryError
    from rotograph.interop.models import doctor

    builtin = Registry.builtin()
    assert set(builtin.models) == {"sam3", "da3", "matanyone2"} and builtin.model("da3").module == "depth_anything_3"
    with pytest.raises(RegistryError, match="unknown model 'sam'.*'sam3'"):
        builtin.model("sam")
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "studio_matter.py").write_text(MODEL_PLUGIN.format(key="studio_matter"))
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(folder))
    reg = Registry.default()
    assert reg.model("studio_matter").hf_id == "studio/matter-v1" and "sam3" in reg.models
    assert SPECS["studio_matter"].name == "Studio Matter" and "studio_matter" in list(SPECS)
    rows = dict(doctor())
    assert rows["studio_matter"].startswith("not installed: pip install studio-matter")
    assert rows["studio_matter weights"].startswith("studio/matter-v1: not downloaded")
    (folder / "studio_matter.py").write_text(MODEL_PLUGIN.format(key="sam3"))  # a second claim on a built-in key
    with pytest.raises(RegistryError, match="model 'sam3' is claimed by both rotograph.nodes:register"):
        Registry.default()
    monkeypatch.delenv("ROTOGRAPH_PLUGIN_PATH")
    with pytest.raises(ModelError, match="no model 'studio_matter' is registered"):
        SPECS["studio_matter"]
