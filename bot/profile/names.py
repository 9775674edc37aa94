"""Personal-name comparison used by identity resolution.

Resolution must merge "Jonathan", "Jon" and "Jonathna" (nickname, typo) but
keep apart "Frank" and "Grace" who share the family e-mail. These rules are
deliberately narrow: equality, a known nickname, an initial, or one typo
(Damerau-Levenshtein distance 1) in names of at least four letters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_NICKNAMES: tuple[tuple[str, ...], ...] = (
    ("jonathan", "jon", "jonny", "jonty"),
    ("john", "johnny", "jack"),
    ("william", "will", "bill", "billy", "liam"),
    ("elizabeth", "liz", "lizzie", "beth", "eliza", "betty"),
    ("robert", "rob", "robbie", "bob", "bobby"),
    ("katherine", "kate", "katie", "kath", "kathy", "catherine", "cathy"),
    ("margaret", "maggie", "meg", "peggy"),
    ("michael", "mike", "mick", "mikey"),
    ("james", "jim", "jimmy", "jamie"),
    ("thomas", "tom", "tommy"),
    ("christopher", "chris"),
    ("christine", "chris", "chrissie"),
    ("alexander", "alex", "sandy"),
    ("alexandra", "alex", "lexi"),
    ("daniel", "dan", "danny"),
    ("samuel", "sam", "sammy"),
    ("samantha", "sam", "sammie"),
    ("benjamin", "ben", "benny"),
    ("rebecca", "becky", "becca"),
    ("victoria", "vicky", "tori"),
    ("edward", "ed", "eddie", "ted"),
    ("richard", "rich", "rick", "dick"),
    ("anthony", "tony"),
    ("joseph", "joe", "joey"),
    ("matthew", "matt"),
    ("nicholas", "nick", "nicky"),
    ("stephen", "steve", "steven"),
    ("david", "dave", "davy"),
    ("charlotte", "charlie", "lottie"),
    ("charles", "charlie", "chas"),
    ("amelia", "millie", "amy"),
    ("emily", "em", "emmy"),
    ("emma", "em"),
    ("hannah", "hanna"),
    ("susan", "sue", "suzy"),
    ("patricia", "pat", "patty", "trish"),
    ("jennifer", "jen", "jenny"),
    ("peter", "pete"),
    ("andrew", "andy", "drew"),
    ("frederick", "fred", "freddie"),
    ("gregory", "greg"),
    ("oliver", "ollie"),
    ("isabella", "bella", "izzy"),
    ("olivia", "liv", "livvy"),
    ("sophia", "sophie"),
    ("abigail", "abby", "abi"),
)


def _nickname_index() -> dict[str, frozenset[int]]:
    index: dict[str, set[int]] = {}
    for group_no, group in enumerate(_NICKNAMES):
        for name in group:
            index.setdefault(name, set()).add(group_no)
    return {name: frozenset(groups) for name, groups in index.items()}


_NICK = _nickname_index()


@lru_cache(maxsize=262144)
def _normalise_name(raw: str) -> str:
    decomposed = unicodedata.normalize("NFKD", raw)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


def normalise_name(raw: str | None) -> str:
    """Lower-case ASCII letters only: "Zoë O'Brien" -> "zoeobrien"; None -> ""."""
    return _normalise_name(raw) if raw else ""


def split_full_name(full: str | None) -> tuple[str, str]:
    """("Jo Anne Smith") -> ("Jo", "Smith"): first and last word; ("", "") if empty."""
    parts = (full or "").split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    return parts[0], parts[-1]


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insert, delete, substitute or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@lru_cache(maxsize=65536)
def given_names_compatible(a: str, b: str) -> bool:
    """Could two normalised given names belong to one person? Empty = unknown = yes."""
    if not a or not b or a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    groups_a, groups_b = _NICK.get(a), _NICK.get(b)
    if groups_a and groups_b and groups_a & groups_b:
        return True
    return min(len(a), len(b)) >= 4 and _within_one_edit(a, b)


@lru_cache(maxsize=65536)
def family_names_compatible(a: str, b: str) -> bool:
    if not a or not b or a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return min(len(a), len(b)) >= 4 and _within_one_edit(a, b)
