"""``python -m bot validate``: Rasa's data validation, with every warning treated as an error.

Rasa 3.6's validator reports the responses a form uses to ask for its slots
(``utter_ask_<form>_<slot>`` / ``utter_ask_<slot>``) as "not used in any story
or rule", because forms run them internally. Those, and only those, are
accepted here, after checking that each one really belongs to a form's
required slot; any other warning fails the run.
"""

from __future__ import annotations

import argparse
import re
import warnings
from pathlib import Path

from bot.settings import ROOT

#: Rasa's external events (POST /conversations/{id}/trigger_intent) never come from a
#: customer, so by Rasa's own convention their EXTERNAL_* intents have no NLU examples.
_EXTERNAL_WITHOUT_EXAMPLES = re.compile(
    r"The intent 'EXTERNAL_\w+' is listed in the domain file, but is not found in the NLU training data\."
)
_UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_ask_\w+)' is not used in any story or rule\.")
_UNUSED_CHANNEL_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")


def _channel_responses() -> tuple[str, ...]:
    """Responses the channel guard (size, emptiness, rate) and the Rasa process (action server
    down) answer with directly."""
    from bot.action_fallback import RESPONSES as FALLBACK
    from bot.channels.guard import RESPONSES as GUARD

    return GUARD + FALLBACK


def form_ask_responses(domain: "object") -> set[str]:
    """Every response name a form may use to ask for one of its required slots."""
    names: set[str] = set()
    for form in domain.form_names:  # type: ignore[attr-defined]
        for slot in domain.required_slots_for_form(form):  # type: ignore[attr-defined]
            names.add(f"utter_ask_{form}_{slot}")
            names.add(f"utter_ask_{slot}")
    return names


def validate_project(root: Path = ROOT) -> list[str]:
    """Run Rasa's full validation; return the problems (empty when all is well)."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    importer = TrainingDataImporter.load_from_config(
        config_path=str(root / "config.yml"),
        domain_path=str(root / "domain"),
        training_data_paths=[str(root / "data")],
    )
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator = Validator.from_importer(importer)
        domain = importer.get_domain()
        if domain.is_empty():
            return ["the domain is empty"]
        checks = {
            "domain": validator.verify_domain_validity(),
            "actions in stories and rules": validator.verify_actions_in_stories_rules(),
            "forms in stories and rules": validator.verify_forms_in_stories_rules(),
            "form slots": validator.verify_form_slots(),
            "slot mappings": validator.verify_slot_mappings(),
            "NLU data": validator.verify_nlu(False),
            "story structure": validator.verify_story_structure(False),
        }
    problems += [f"{name}: failed" for name, ok in checks.items() if not ok]
    accepted = form_ask_responses(domain)
    for warning in caught:
        message = str(warning.message)
        if not _is_rasa_warning(warning) or _expected_by_rasa(warning):
            continue
        if _EXTERNAL_WITHOUT_EXAMPLES.search(message):
            continue
        rendered_by_channel = _UNUSED_CHANNEL_RESPONSE.search(message)
        if rendered_by_channel and rendered_by_channel.group(1) in _channel_responses():
            continue  # rendered without a rule: bot/channels/guard.py, bot/action_fallback.py
        unused = _UNUSED_UTTERANCE.search(message)
        if unused and unused.group(1) in accepted:
            continue
        problems.append(message)
    return problems


def _expected_by_rasa(warning: warnings.WarningMessage) -> bool:
    """Notices Rasa's own CLI filters out as expected (e.g. the 3.0 slot auto-fill notice)."""
    from rasa.utils.common import EXPECTED_WARNINGS

    return any(
        issubclass(warning.category, category) and re.match(pattern, str(warning.message))
        for category, pattern in EXPECTED_WARNINGS
    )


def _is_rasa_warning(warning: warnings.WarningMessage) -> bool:
    """Warnings about the project come from Rasa's validator and I/O helpers, not from libraries."""
    return "/rasa/" in str(warning.filename).replace("\\", "/") and issubclass(warning.category, UserWarning)


def cmd_validate(args: argparse.Namespace) -> int:
    problems = validate_project()
    if problems:
        print(f"validation failed with {len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("validation passed: no warnings")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate domain and data; any warning fails")
    parser.set_defaults(func=cmd_validate)
