"""Secrets come from environment variables only; errors name the variable, never a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.config import ConfigErrors, load_project, resolve_secret
from oxy.errors import ConfigError


def test_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXY_TEST_SECRET", "s3cr3t")

    assert resolve_secret("OXY_TEST_SECRET", file="config.yml", key="databases[0].password_var") == "s3cr3t"


def test_missing_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OXY_TEST_SECRET", raising=False)

    with pytest.raises(ConfigError) as caught:
        resolve_secret("OXY_TEST_SECRET", file="config.yml", key="models[0].key_var")

    assert str(caught.value) == (
        "config.yml: environment variable 'OXY_TEST_SECRET' is not set (models[0].key_var names it); "
        "export it before running oxy"
    )
    assert caught.value.key == "models[0].key_var"


def test_empty_variable_is_an_error_without_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXY_TEST_SECRET", "")

    with pytest.raises(ConfigError, match="'OXY_TEST_SECRET' is empty"):
        resolve_secret("OXY_TEST_SECRET", file="config.yml", key="models[0].key_var")


def test_pasted_secret_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_secret("sk-live-0123456789", file="config.yml", key="models[0].key_var")

    assert "sk-live" not in str(caught.value)
    assert str(caught.value) == (
        "config.yml: models[0].key_var must name an environment variable (letters, digits and _), "
        "not hold the secret itself"
    )


def test_config_with_a_pasted_secret_fails_without_echoing_it(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: openai\n    model_ref: gpt-4o\n    key_var: sk-live-0123456789\n"
    )

    with pytest.raises(ConfigErrors) as caught:
        load_project(tmp_path)

    assert str(caught.value) == (
        "config.yml:5:14: 'key_var' must name an environment variable (letters, digits and _), not hold the "
        "secret itself; export the secret and name its variable here"
    )
