"""Customer channels of the Rasa server that tandem adds to Rasa's own (see credentials.yml)."""
