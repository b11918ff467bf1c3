"""oxy: run AI agents and workflows declared in YAML."""

__version__ = "0.1.0"
