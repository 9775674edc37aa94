"""Rasa's RegexFeaturizer with a linear-time token/match pass.

Rasa 3.6's ``RegexFeaturizer`` compares every token with every match of a
pattern: on a long message with many matches (a megabyte of "12345 12345 …")
that is tokens x matches, i.e. quadratic, and one such message stalls the
server for everyone (issue 10). Matches from ``re.finditer`` come in text order
and do not overlap, and tokens come in text order too, so one sweep with a
pointer finds every overlapping (token, match) pair in time linear in
tokens + matches + overlaps. Features and the tokens' ``pattern`` flags (which
the CRF entity extractor reads) are exactly those of the original.
"""

from __future__ import annotations

import re
from typing import Optional, Text, Tuple

import numpy as np
import scipy.sparse

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.nlu.constants import ACTION_TEXT, RESPONSE, TEXT
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class LinearRegexFeaturizer(RegexFeaturizer):
    """Same features as :class:`RegexFeaturizer`, computed in linear time."""

    def _features_for_patterns(
        self, message: Message, attribute: Text
    ) -> Tuple[Optional[scipy.sparse.coo_matrix], Optional[scipy.sparse.coo_matrix]]:
        text = message.get(attribute)
        if not text:
            return None, None
        tokens = message.get(TOKENS_NAMES[attribute], [])
        if not tokens:
            return None, None
        flags = 0 if self.case_sensitive else re.IGNORECASE
        ordered = sorted(range(len(tokens)), key=lambda i: (tokens[i].start, tokens[i].end))
        sequence = np.zeros([len(tokens), len(self.known_patterns)])
        sentence = np.zeros([1, len(self.known_patterns)])
        whole_sentence = attribute in (RESPONSE, TEXT, ACTION_TEXT)

        for column, pattern in enumerate(self.known_patterns):
            name = pattern["name"]
            spans = [match.span() for match in re.finditer(pattern["pattern"], text, flags=flags)]
            first = 0  # first match that can still overlap the current or a later token
            for index in ordered:
                token = tokens[index]
                flags_of_token = token.get("pattern", default={})
                flags_of_token[name] = False
                # matches are in text order with increasing ends: one ending before this
                # token starts ends before every later token starts too
                while first < len(spans) and spans[first][1] <= token.start:
                    first += 1
                probe = first
                while probe < len(spans) and spans[probe][0] < token.end:
                    if spans[probe][1] > token.start:
                        flags_of_token[name] = True
                        sequence[index][column] = 1.0
                        if whole_sentence:
                            sentence[0][column] = 1.0
                        break
                    probe += 1
                token.set("pattern", flags_of_token)
        return scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence)
