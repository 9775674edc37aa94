"""Fixtures for the escalation policy tests: the real domain and the component."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

with warnings.catch_warnings():
    # Rasa's modules (rasa.core.policies.rule_policy in particular) import rasa.core.agent and with it
    # apscheduler, matplotlib and SQLAlchemy 1.4 code that warn at import time
    # (pkg_resources, pyparsing, SQLAlchemy 2.0 notices), attributed to modules
    # pyproject's ignores do not name. Third-party import noise only: silenced
    # for this one import, every warning of our own code still fails the test.
    warnings.simplefilter("ignore")
    import rasa.core.policies.rule_policy  # noqa: F401  (imported once here, warning-free)
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.shared.core.domain import Domain

from bot.policy.escalation import EscalationPolicy
from tests.policy.helpers import domain_from_path, domain_from_yaml

ROOT = Path(__file__).resolve().parents[2]

# What this policy needs from the domain beyond domain/: the handoff action is
# declared by the handoff work (issue 5, item 2); merged here so the tests do not
# depend on when that lands. Merging is a no-op for names already present.
EXTRA_DOMAIN = """
version: "3.1"
actions:
  - action_handoff
"""


@pytest.fixture(scope="session")
def domain() -> Domain:
    """The project's real domain (domain/ folder) plus the handoff action."""
    return domain_from_path(str(ROOT / "domain")).merge(domain_from_yaml(EXTRA_DOMAIN))


@pytest.fixture
def model_storage(tmp_path: Path) -> ModelStorage:
    path = tmp_path / "storage"
    path.mkdir()
    return LocalModelStorage.create(path)


@pytest.fixture
def execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "policy-test-model")


PolicyFactory = Callable[..., EscalationPolicy]


@pytest.fixture
def make_policy(model_storage: ModelStorage, execution_context: ExecutionContext) -> PolicyFactory:
    """Creates an EscalationPolicy the way Rasa's graph does (defaults + overrides)."""

    def factory(resource_name: str = "escalation_policy", **overrides: Any) -> EscalationPolicy:
        config = {**EscalationPolicy.get_default_config(), **overrides}
        return EscalationPolicy.create(config, model_storage, Resource(resource_name), execution_context)

    return factory


@pytest.fixture
def policy(make_policy: PolicyFactory, domain: Domain) -> EscalationPolicy:
    created = make_policy()
    created.train([], domain)
    return created
