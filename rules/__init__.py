"""Declarative rules: the service catalog, routing and policy, loaded from YAML."""

from rules.loader import RulesError, load_rules
from rules.models import Rules

__all__ = ["Rules", "RulesError", "load_rules"]
