"""usearch and llama.cpp in one process: an index used first must not stop a local model loading
(usearch's wheel carries its own C++ runtime; oxy lets llama.cpp read a vocabulary before it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from oxy.models.local import shipped_model_path

SCRIPT = """
import numpy as np
from pathlib import Path
from oxy.retrieval.index import VectorIndex
index = VectorIndex(Path("unused"), embedder="e", dims=4)  # imports usearch
assert len(index) == 0
import llama_cpp
from oxy.models.local import shipped_model_path
llama_cpp.Llama(model_path=str(shipped_model_path()), n_ctx=256, verbose=False).close()
print("both loaded")
"""


@pytest.mark.local_model
def test_a_local_model_loads_after_an_index_was_opened() -> None:
    if importlib.util.find_spec("llama_cpp") is None or shipped_model_path() is None:
        pytest.skip("llama-cpp-python or the SmolLM2 GGUF is not installed (oxy models install-local)")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and "both loaded" in done.stdout, done.stderr[-2000:]
