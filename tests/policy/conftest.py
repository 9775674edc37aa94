"""Fixtures for the escalation policy tests: the real domain and the component."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain

from bot.policy.escalation import EscalationPolicy

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
    with warnings.catch_warnings():
        # pykwalify (Rasa's YAML schema validator) loads its extensions with the
        # deprecated importlib load_module(); not ours to fix.
        warnings.filterwarnings("ignore", message=r"the load_module\(\) method is deprecated")
        return Domain.load(str(ROOT / "domain")).merge(Domain.from_yaml(EXTRA_DOMAIN))


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
