"""tandem's custom actions, one module per business area.

rasa-sdk's action server imports this package and registers every ``Action``
subclass found in its modules. Actions stay thin: they read the tracker, call
a typed service from ``bot/`` and format the reply.
"""
