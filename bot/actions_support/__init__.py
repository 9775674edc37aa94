"""Typed business logic behind the rasa_sdk actions in ``actions/``.

Each area module (orders, refunds, billing, delivery, account, feedback,
privacy) takes a :class:`~bot.actions_support.conversation.Context` (the turn,
the identified customer, the services) and returns a
:class:`~bot.actions_support.conversation.Reply`: the names of the domain
responses to send and their variables, never text. No Rasa imports here.
"""
