"""tandem's input channels: Rasa's REST and socket.io, each behind one guard (``bot.channels.guard``)."""
