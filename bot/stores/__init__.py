"""Rasa's stores for tandem: the tracker store (:mod:`bot.stores.tracker`) and the event broker
chosen from its URL (:mod:`bot.stores.broker`), both named in ``endpoints.yml``."""
