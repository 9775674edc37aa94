"""tandem: a Rasa assistant and human agents working in tandem.

The ``bot`` package is the typed core that the Rasa project (``config.yml``,
``domain/``, ``data/``) and the action server (``actions/``) build on:
settings, the unified customer profile, business processes, the escalation
policy, the handoff service and the command-line interface.
"""

__version__ = "0.1.0"
