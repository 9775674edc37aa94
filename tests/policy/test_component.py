"""The policy as a Rasa graph component: config validation, training checks,
persistence through Rasa's model storage, and registration in a recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.validation import validate
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationPaused, SlotSet
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.data import TrainingType
from rasa.shared.exceptions import InvalidConfigException

from bot.policy.config import DEFAULT_CONFIG, EscalationConfig, EscalationConfigError
from bot.policy.escalation import METADATA_FILE, EscalationPolicy
from tests.policy.helpers import bot, domain_from_yaml, tracker_of, user

# Config validation -----------------------------------------------------------


def test_defaults_are_valid_and_beat_rule_policy() -> None:
    config = EscalationConfig.from_mapping(EscalationPolicy.get_default_config())
    assert config.priority > 6
    assert config.handoff_action == "action_handoff"
    assert config.explicit_request_intents == {"contact_human_agent"}
    assert config.consecutive_fallbacks == 2 and config.max_failed_turns == 2


def test_default_config_is_a_fresh_copy_each_time() -> None:
    first = EscalationPolicy.get_default_config()
    first["offensive_patterns"].append("x")
    first["topic_intents"]["orders"] = []
    assert EscalationPolicy.get_default_config()["offensive_patterns"] == DEFAULT_CONFIG["offensive_patterns"]


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"consecutive_fallback": 2}, "unknown option(s) consecutive_fallback"),
        ({"priority": "high"}, "priority must be a whole number"),
        ({"consecutive_fallbacks": 0}, "consecutive_fallbacks must be a whole number >= 1"),
        ({"intent_repeats": 1}, "intent_repeats must be a whole number >= 2"),
        ({"low_confidence_threshold": 1.5}, "low_confidence_threshold must be a number between 0 and 1"),
        ({"fallback_enabled": "yes"}, "fallback_enabled must be true or false"),
        ({"explicit_request_intents": "contact_human_agent"}, "explicit_request_intents must be a list"),
        ({"offensive_patterns": ["(unclosed"]}, "offensive_patterns: invalid regular expression"),
        ({"handoff_action": ""}, "handoff_action must be a non-empty name"),
        ({"topic_intents": {"shoes": ["track_order"]}}, "topic_intents: unknown topic 'shoes'"),
        (
            {"topic_intents": {"orders": ["get_refund"], "refunds_billing": ["get_refund"]}},
            "listed under both",
        ),
        ({"reason_topics": {"legal_threat": "lawyers"}}, "reason_topics: unknown topic 'lawyers'"),
        ({"priority_complaint_segments": ["high_value"]}, "priority_complaint_segments must be a list of"),
    ],
)
def test_invalid_config_is_rejected_with_a_clear_message(make_policy, overrides, message: str) -> None:
    with pytest.raises(EscalationConfigError, match=_literal(message)):
        EscalationConfig.from_mapping({**EscalationPolicy.get_default_config(), **overrides})
    with pytest.raises(InvalidConfigException, match="^EscalationPolicy: .*" + _literal(message)):
        make_policy(**overrides)


def _literal(text: str) -> str:
    import re

    return re.escape(text)


def test_disabled_triggers_do_not_fire(make_policy, domain) -> None:
    policy = make_policy(
        explicit_request_enabled=False,
        fallback_enabled=False,
        frustration_enabled=False,
    )
    policy.train([], domain)
    for parts in (
        [user("human please", "contact_human_agent")],
        [user("x", "nlu_fallback", 0.3), bot("utter_ask_rephrase"), user("y", "nlu_fallback", 0.3)],
        [user("this is useless", "out_of_scope")],
    ):
        prediction = policy.predict_action_probabilities(tracker_of(domain, *parts), domain)
        assert prediction.max_confidence == 0.0


def test_handoff_action_name_is_configurable(make_policy, domain) -> None:
    policy = make_policy(handoff_action="utter_ask_rephrase")
    policy.train([], domain)
    prediction = policy.predict_action_probabilities(
        tracker_of(domain, user("human please", "contact_human_agent")), domain
    )
    assert prediction.probabilities[domain.index_for_action("utter_ask_rephrase")] == 1.0


# Training checks --------------------------------------------------------------


def test_training_fails_clearly_without_the_handoff_action(make_policy) -> None:
    small = domain_from_yaml('version: "3.1"\nintents: [greet]\nslots:\n'
                             '  escalation_reason: {type: text, mappings: [{type: custom}]}\n'
                             '  escalation_topic: {type: text, mappings: [{type: custom}]}\n')
    with pytest.raises(InvalidConfigException, match="handoff_action 'action_handoff' is not an action"):
        make_policy().train([], small)


def test_training_fails_clearly_without_the_reason_slot(make_policy) -> None:
    small = domain_from_yaml('version: "3.1"\nintents: [greet]\nactions: [action_handoff]\n')
    with pytest.raises(InvalidConfigException, match="slot 'escalation_reason' the policy writes is not a slot"):
        make_policy().train([], small)


# Persistence -------------------------------------------------------------------

SAMPLE_CONVERSATIONS = [
    [user("hi", "greet")],
    [user("human please", "contact_human_agent")],
    [user("x", "nlu_fallback", 0.3), bot("utter_ask_rephrase"), user("y", "nlu_fallback", 0.3)],
    [user("where is my order", "track_order"), bot("utter_ok"), user("no", "deny"), bot("utter_ok"),
     user("no", "deny")],
    [[SlotSet("customer_segments", ["high_value", "open_complaint"])], user("complaint!", "complaint")],
    [user("where is my order", "track_order"),
     [ActionExecuted("track_order_form"), ActiveLoop("track_order_form"), SlotSet(REQUESTED_SLOT, "order_id")],
     user("I will sue you", "out_of_scope")],
    [[ConversationPaused()], user("human please", "contact_human_agent")],
]


def _predictions(policy: EscalationPolicy, domain: Domain) -> list[tuple]:
    out = []
    for parts in SAMPLE_CONVERSATIONS:
        prediction = policy.predict_action_probabilities(tracker_of(domain, *parts), domain)
        out.append(
            (
                tuple(prediction.probabilities),
                prediction.policy_priority,
                tuple(str(e) for e in prediction.optional_events),
                prediction.action_metadata,
            )
        )
    return out


def test_train_persist_load_gives_the_same_predictions(
    make_policy, model_storage, execution_context, domain
) -> None:
    config = {**EscalationPolicy.get_default_config(), "deny_repeats": 3, "priority": 8}
    trained = make_policy(resource_name="escalation", deny_repeats=3, priority=8)
    resource = trained.train([], domain)
    assert resource == Resource("escalation")
    with model_storage.read_from(resource) as path:
        assert (Path(path) / METADATA_FILE).is_file()

    loaded = EscalationPolicy.load(config, model_storage, resource, execution_context)
    assert loaded.priority == 8
    assert _predictions(loaded, domain) == _predictions(trained, domain)
    fired = [p for p in _predictions(loaded, domain) if max(p[0]) == 1.0]
    assert len(fired) == 4  # explicit, fallback, priority complaint, legal threat (not: 2 denies, paused)


def test_model_archive_round_trip(make_policy, model_storage, domain, tmp_path: Path) -> None:
    """Package the trained policy into a model archive and load it from a fresh storage."""
    recipe_config = {
        "recipe": "default.v1",
        "language": "en",
        "pipeline": [],
        "policies": [{"name": "RulePolicy"}, {"name": "bot.policy.escalation.EscalationPolicy"}],
    }
    model_config = DefaultV1Recipe().graph_config_for_recipe(recipe_config, {}, TrainingType.CORE)
    node = next(
        name for name, n in model_config.train_schema.nodes.items() if n.uses is EscalationPolicy
    )
    trained = make_policy(resource_name=node)
    trained.train([], domain)
    archive = tmp_path / "model.tar.gz"
    model_storage.create_model_package(archive, model_config, domain)

    fresh_dir = tmp_path / "unpacked"
    fresh_dir.mkdir()
    storage, metadata = LocalModelStorage.from_model_archive(fresh_dir, archive)
    predict_node = next(
        name for name, n in metadata.predict_schema.nodes.items() if n.uses is EscalationPolicy
    )
    node_def = metadata.predict_schema.nodes[predict_node]
    loaded = EscalationPolicy.load(
        {**EscalationPolicy.get_default_config(), **node_def.config},
        storage,
        node_def.resource,
        ExecutionContext(metadata.predict_schema, metadata.model_id),
    )
    assert _predictions(loaded, metadata.domain) == _predictions(trained, domain)


def test_loading_without_metadata_still_predicts(model_storage, execution_context, domain) -> None:
    loaded = EscalationPolicy.load(
        EscalationPolicy.get_default_config(), model_storage, Resource("never_trained"), execution_context
    )
    tracker = tracker_of(domain, user("human please", "contact_human_agent"))
    assert loaded.predict_action_probabilities(tracker, domain).max_confidence == 1.0


# Registration in the recipe ----------------------------------------------------


def test_policy_is_a_valid_node_of_the_default_recipe() -> None:
    """What `rasa train` does first with config.yml: build and validate the graph."""
    recipe_config = {
        "recipe": "default.v1",
        "language": "en",
        "pipeline": [],
        "policies": [
            {"name": "MemoizationPolicy"},
            {"name": "RulePolicy"},
            {"name": "bot.policy.escalation.EscalationPolicy", "consecutive_fallbacks": 2},
        ],
    }
    model_config = DefaultV1Recipe().graph_config_for_recipe(recipe_config, {}, TrainingType.CORE)
    validate(model_config)
    train_nodes = [n for n in model_config.train_schema.nodes.values() if n.uses is EscalationPolicy]
    predict_nodes = [n for n in model_config.predict_schema.nodes.values() if n.uses is EscalationPolicy]
    assert len(train_nodes) == 1 and train_nodes[0].fn == "train"
    assert len(predict_nodes) == 1 and predict_nodes[0].fn == "predict_action_probabilities"
    assert predict_nodes[0].config["consecutive_fallbacks"] == 2

