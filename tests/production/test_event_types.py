"""bot.rasa_server's cached ``Event.resolve_by_type`` answers as Rasa's own loop does."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import Event

from bot.rasa_server import install_event_type_cache


def rasa_loop(type_name: str) -> type | None:
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    return None


def test_every_event_type_resolves_to_rasa_s_class_and_unknown_ones_fail_alike() -> None:
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    expected = {name: rasa_loop(name) for name in names}
    install_event_type_cache()
    install_event_type_cache()  # idempotent
    assert {name: Event.resolve_by_type(name) for name in names} == expected
    assert Event.resolve_by_type("topic") is None  # Rasa's backwards compatibility
    assert Event.resolve_by_type("no such event", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")


def test_a_subclass_defined_later_is_found() -> None:
    install_event_type_cache()
    Event.resolve_by_type("user")

    class LateEvent(Event):
        type_name = "tandem_test_late_event"

        def as_story_string(self) -> None:
            return None

        def __hash__(self) -> int:
            return 1

        def __eq__(self, other: object) -> bool:
            return isinstance(other, LateEvent)

    assert Event.resolve_by_type("tandem_test_late_event") is LateEvent
