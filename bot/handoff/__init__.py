"""Live-agent handoff: a durable queue, routing, the agent console and the Rasa loop.

How a conversation travels (all of it inside Rasa's own mechanisms):

1. ``action_handoff`` (actions/handoff.py) tells the customer what happens next, how long and
   what could go wrong, stores a ``handoff_request`` slot and returns ``ConversationPaused``.
2. Rasa publishes every tracker event to its event broker (SQL table ``events``).
   :class:`bot.handoff.broker.EventBrokerConsumer` reads that table in id order, keeping its
   cursor in the handoff database in the same transaction as the effect, so a service that was
   down catches up and nothing is lost or applied twice.
3. The agent console (``/console``, WebSocket ``/ws``) shows the queue; accepting is an atomic
   conditional update, so two agents never own one conversation.
4. Agent replies, position updates and the hand-back go through Rasa's HTTP API
   (``POST /conversations/{id}/tracker/events?output_channel=latest&execute_side_effects=true``)
   so the customer receives them on their own channel and the tracker stays complete.
"""
