"""Secrets come from environment variables only; errors name the variable, never a value."""

from __future__ import annotations

import pytest

from oxy.config import resolve_secret
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
