"""The model manager's logic: weights resolution, offline errors, one load per process, doctor.

PyTorch and the model packages are optional extras that CI's base environment does not install;
these tests cover what does not need them (and that their absence is reported clearly)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rotograph.models import SPECS, ModelError, ModelManager, require, resolve_weights


def test_weights_resolution(tmp_path, monkeypatch):
    spec = SPECS["sam3"]
    monkeypatch.delenv(spec.env_var, raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert resolve_weights(spec) == "facebook/sam3"
    ckpt = tmp_path / "sam3.pt"
    ckpt.write_bytes(b"x")
    monkeypatch.setenv(spec.env_var, str(ckpt))
    assert resolve_weights(spec) == str(ckpt)  # the environment variable beats the HF id
    assert resolve_weights(spec, "facebook/other") == "facebook/other"  # the node param beats both
    with pytest.raises(ModelError, match="no such file, and not a Hugging Face id"):
        resolve_weights(spec, "./missing.pt")


def test_offline_and_gated_weights_say_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv(SPECS["sam3"].env_var, raising=False)
    with pytest.raises(ModelError) as e:
        resolve_weights(SPECS["sam3"])
    msg = str(e.value)
    assert "huggingface-cli download facebook/sam3" in msg and "gated" in msg and "ROTOGRAPH_SAM3_WEIGHTS" in msg


def test_one_instance_per_model_weights_and_device():
    built = []
    m = ModelManager()
    make = lambda w, d: built.append((w, d)) or object()  # noqa: E731
    a = m.get("da3", "depth-anything/DA3-SMALL", "cpu", make)
    assert m.get("da3", "depth-anything/DA3-SMALL", "cpu", make) is a
    m.get("da3", "depth-anything/DA3-LARGE", "cpu", make)
    assert built == [("depth-anything/DA3-SMALL", "cpu"), ("depth-anything/DA3-LARGE", "cpu")]


def test_missing_package_is_explained():
    from rotograph.models import ModelSpec

    spec = ModelSpec("Imaginary", "rotograph_no_such_package", "pip install imaginary", "x/y", "ROTOGRAPH_X")
    with pytest.raises(ModelError, match="Imaginary needs the 'rotograph_no_such_package' package.*pip install imaginary"):
        require(spec)


def test_doctor_cli():
    out = subprocess.run([sys.executable, "-m", "rotograph.cli", "doctor"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for item in ("torch", "sam3", "depth_anything_3", "matanyone2", "sam3 weights"):
        assert f"{item}:" in out.stdout
