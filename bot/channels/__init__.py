"""tandem's input channels: Rasa's own, behind one guard (``bot.channels.guard``)."""
