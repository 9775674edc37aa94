"""Natural-language understanding: evaluation command and custom Rasa NLU components."""
