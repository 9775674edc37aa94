"""Typed business logic behind the rasa_sdk actions in ``actions/``.

Each area module (orders, refunds, billing, delivery, account, feedback,
privacy) takes a :class:`~bot.actions_support.conversation.Context` (the turn,
the identified customer, the services) and returns a
:class:`~bot.actions_support.conversation.Reply`. No Rasa imports here.
"""
