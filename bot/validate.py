"""``python -m bot validate``: Rasa's data validation, with every warning treated as an error.

Rasa 3.6's validator reports the responses a form uses to ask for its slots
(``utter_ask_<form>_<slot>`` / ``utter_ask_<slot>``) as "not used in any story
or rule", because forms run them internally; it says the same of the
responses custom actions send (``dispatcher.utter_message(response=...)``).
Those, and only those, are accepted here: a form's ask response after checking
that it belongs to a form's required slot, an action's response after finding
its name in the actions' code (:func:`action_responses`); any other warning
fails the run.
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
#: responses Rasa's own default actions send (``action_default_fallback`` says ``utter_default``)
_DEFAULT_ACTION_RESPONSES = ("utter_default",)
_UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
#: where custom actions (and the handoff service) name the responses they send
ACTION_CODE = ("actions", "bot/actions_support", "bot/processes", "bot/handoff")
#: a response name in code: a literal "utter_x", or the start of f"utter_x_{...}"
_RESPONSE_IN_CODE = re.compile(r"""f?["'](utter_[a-z0-9_]+)(\{)?""")


def action_responses(root: Path = ROOT) -> tuple[set[str], set[str]]:
    """The response names custom actions send: (exact names, name prefixes).

    A prefix comes from an f-string (``f"utter_identity_for_{purpose}"``) or
    from :func:`bot.actions_support.common.with_known`, which adds
    ``_with_<facts>`` to a literal name.
    """
    exact: set[str] = set()
    prefixes: set[str] = set()
    for folder in ACTION_CODE:
        for path in sorted((root / folder).glob("*.py")):
            for match in _RESPONSE_IN_CODE.finditer(path.read_text(encoding="utf-8")):
                name, formatted = match.group(1), match.group(2)
                if formatted:
                    prefixes.add(name)
                else:
                    exact.add(name)
                    prefixes.add(f"{name}_with_")
    return exact, prefixes


def sent_by_an_action(name: str, code: tuple[set[str], set[str]]) -> bool:
    exact, prefixes = code
    return name in exact or any(name.startswith(prefix) for prefix in prefixes)


def _channel_responses() -> tuple[str, ...]:
    """Responses the channel guard (size, emptiness, rate) and the Rasa process (action server
    down) answer with directly, without a rule or an action."""
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
    code = action_responses(root)
    for warning in caught:
        message = str(warning.message)
        if not _is_rasa_warning(warning) or _expected_by_rasa(warning):
            continue
        if _EXTERNAL_WITHOUT_EXAMPLES.search(message):
            continue
        unused = _UNUSED_UTTERANCE.search(message)
        if unused and (unused.group(1) in accepted or sent_by_an_action(unused.group(1), code)
                       or unused.group(1) in _channel_responses() or unused.group(1) in _DEFAULT_ACTION_RESPONSES):
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
