"""``EscalationPolicy``: a Rasa 3.6 policy that hands the conversation to a human.

A thin graph component around :func:`bot.policy.decision.decide`. Right after a
customer message it either abstains (all-zero probabilities, so RulePolicy, TED
and Memoization decide as usual) or predicts the handoff action with confidence
1.0. When it fires:

* its priority (default 7) beats RulePolicy's 6 on equal confidence, and the
  prediction is marked ``is_no_user_prediction`` so that it also wins against
  RulePolicy's form "happy path" and end-to-end rule predictions, which Rasa's
  ensemble would otherwise rank above any intent-based prediction;
* the reason and topic are written as ``SlotSet`` events (reason slot
  ``"<code>: <sentence>"``, topic slot one of the queue topics), plus
  ``ActiveLoop(None)`` when a form is active and ``deactivate_loop`` is on. They
  are *optional* events of the prediction: Rasa applies them only when this
  prediction wins, so a losing prediction never leaves a stale reason behind;
* the same facts go into the prediction's ``action_metadata`` (key
  ``escalation``), which Rasa stores on the handoff action's ``ActionExecuted``
  event for analytics.

Training stores nothing the decision needs (the triggers are configuration),
but the policy checks the domain (handoff action and slots must exist: a
missing one fails ``rasa train`` with a clear message) and logs configured
intents the domain does not have. It persists only a version marker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import rasa.shared.utils.io
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.featurizers.tracker_featurizers import (
    MaxHistoryTrackerFeaturizer,
    TrackerFeaturizer,
)
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, Event, SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from bot.policy.config import DEFAULT_CONFIG, EscalationConfig, EscalationConfigError
from bot.policy.decision import Decision, decide
from bot.policy.tracker_view import view_from_tracker
from bot.vocabulary import Slot

logger = logging.getLogger(__name__)

METADATA_FILE = "escalation_policy.json"
METADATA_VERSION = 1


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class EscalationPolicy(Policy):
    """Predicts the handoff action when a trigger of :mod:`bot.policy.decision` fires."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the default config (see :data:`bot.policy.config.DEFAULT_CONFIG`)."""
        return {
            key: (dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value)
            for key, value in DEFAULT_CONFIG.items()
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[TrackerFeaturizer] = None,
    ) -> None:
        """Validates the config (raising ``InvalidConfigException``) and builds the policy."""
        try:
            self.settings = EscalationConfig.from_mapping(config)
        except EscalationConfigError as exc:
            raise InvalidConfigException(f"{self.__class__.__name__}: {exc}") from exc
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def _standard_featurizer(self) -> MaxHistoryTrackerFeaturizer:
        # The decision reads the raw tracker; this featurizer is never used to
        # featurize anything (no state featurizer), it only satisfies the base class.
        return MaxHistoryTrackerFeaturizer(state_featurizer=None, max_history=1)

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Checks the config against the domain; logs configured intents it does not have."""
        self._check_domain(domain)
        configured = (
            self.settings.explicit_request_intents
            | self.settings.complaint_intents
            | self.settings.deny_intents
            | frozenset(self.settings.topic_by_intent)
        )
        missing = sorted(configured - set(domain.intents))
        if missing:
            logger.info(
                "EscalationPolicy: configured intents not in the domain (their triggers cannot fire): %s",
                ", ".join(missing),
            )
        self.persist()
        return self._resource

    def _check_domain(self, domain: Domain) -> None:
        settings = self.settings
        if settings.handoff_action not in domain.action_names_or_texts:
            raise InvalidConfigException(
                f"EscalationPolicy: handoff_action {settings.handoff_action!r} is not an action of "
                f"the domain; add it under 'actions:' or set handoff_action in config.yml"
            )
        slot_names = {slot.name for slot in domain.slots}
        for name in (Slot.ESCALATION_REASON, Slot.ESCALATION_TOPIC):
            if name not in slot_names:
                raise InvalidConfigException(
                    f"EscalationPolicy: the slot {name!r} the policy writes is not a slot of the domain"
                )

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predicts the handoff action with confidence 1.0, or abstains with all zeros."""
        decision = self.decide(tracker)
        if decision is None:
            return self._prediction(self._default_predictions(domain))
        try:
            index = domain.index_for_action(self.settings.handoff_action)
        except Exception:  # noqa: BLE001 - Rasa raises different errors for unknown actions
            index = None
        if index is None:
            logger.error(
                "EscalationPolicy: wanted to hand over (%s) but the domain has no action %r",
                decision.reason_text,
                self.settings.handoff_action,
            )
            return self._prediction(self._default_predictions(domain))
        probabilities = self._default_predictions(domain)
        probabilities[index] = 1.0
        logger.info(
            "EscalationPolicy: handing over conversation %s (%s, topic %s)",
            tracker.sender_id,
            decision.reason_text,
            decision.topic,
        )
        return PolicyPrediction(
            probabilities,
            self.__class__.__name__,
            self.priority,
            events=[],
            optional_events=self.decision_events(decision, tracker),
            is_no_user_prediction=True,
            action_metadata={"escalation": decision.as_metadata()},
        )

    def decide(self, tracker: DialogueStateTracker) -> Optional[Decision]:
        """The decision for ``tracker`` (None: abstain)."""
        return decide(view_from_tracker(tracker, self.settings), self.settings)

    def decision_events(self, decision: Decision, tracker: DialogueStateTracker) -> List[Event]:
        """Events that record ``decision`` in the tracker when the handoff is chosen."""
        events: List[Event] = [
            SlotSet(Slot.ESCALATION_REASON, decision.reason_text),
            SlotSet(Slot.ESCALATION_TOPIC, decision.topic),
        ]
        if self.settings.deactivate_loop and tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return events

    def _metadata(self) -> Dict[Text, Any]:
        return {"version": METADATA_VERSION}

    def persist(self) -> None:
        """Writes the policy's metadata into its resource of the model storage."""
        with self._model_storage.write_to(self._resource) as path:
            file = Path(path) / METADATA_FILE
            rasa.shared.utils.io.create_directory_for_file(file)
            rasa.shared.utils.io.dump_obj_as_json_to_file(file, self._metadata())

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EscalationPolicy:
        """Loads the policy: everything it needs is configuration, nothing is read back."""
        return cls(config, model_storage, resource, execution_context)
