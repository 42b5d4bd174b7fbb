"""Did-you-mean suggestions with a bounded amount of work per file.

difflib compares a name with every candidate (400 PostgreSQL parameters): about 1.5 ms a name.
A file of 20,000 distinct unknown names cost 33 s. Two bounds keep it linear:
- a candidate whose length is too far from the name cannot reach the cutoff (difflib's own
  `real_quick_ratio` bound, applied before any matcher is built), so long names cost nothing;
- a file that has already reported MAX_PROBLEMS problems gets no more suggestions (it is
  likely not the kind of file it was read as, and a typo's suggestion matters in a file that
  has a few, not thousands).
"""

from __future__ import annotations

MAX_PROBLEMS = 200


_COUNTS: dict[tuple, list] = {}


def _counts(candidates: tuple) -> list:
    """(candidate, length, character counts) of a candidate list, made once per list."""
    found = _COUNTS.get(candidates)
    if found is None:
        from collections import Counter

        found = _COUNTS[candidates] = [(c, len(c), Counter(c)) for c in candidates]
    return found


def closest(word: str, candidates, cutoff: float = 0.75, problems_so_far: int = 0) -> str | None:
    """The candidate closest to `word` (difflib's ratio >= cutoff), or None: difflib's answer,
    with the candidates it would reject on its upper bounds (length, shared characters: its
    `real_quick_ratio` and `quick_ratio`) left out first, from counts made once per list."""
    if problems_so_far >= MAX_PROBLEMS:
        return None
    from collections import Counter

    lw = len(word)
    mine = Counter(word).items()
    pool = []
    for c, lc, counts in _counts(tuple(candidates)):
        total = lw + lc
        if total == 0:
            pool.append(c)
            continue
        if 2.0 * min(lw, lc) / total < cutoff:
            continue
        shared = 0
        for ch, k in mine:
            other = counts.get(ch)
            if other:
                shared += k if k < other else other
        if 2.0 * shared / total >= cutoff:
            pool.append(c)
    if not pool:
        return None
    import difflib

    found = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    return found[0] if found else None
