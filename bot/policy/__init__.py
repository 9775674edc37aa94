"""Escalation policy: decides when the conversation goes to a human agent.

* :mod:`bot.policy.config`: options, defaults and validation;
* :mod:`bot.policy.decision`: the pure decision (no Rasa imports);
* :mod:`bot.policy.tracker_view`: Rasa tracker -> decision view;
* :mod:`bot.policy.escalation`: the Rasa graph component ``EscalationPolicy``
  (registered in ``config.yml`` as ``bot.policy.escalation.EscalationPolicy``).

This package file imports nothing from Rasa so that the pure parts stay cheap
to import.
"""
