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


def closest(word: str, candidates, cutoff: float = 0.75, problems_so_far: int = 0) -> str | None:
    """The candidate closest to `word` (difflib's ratio >= cutoff), or None."""
    if problems_so_far >= MAX_PROBLEMS:
        return None
    lw = len(word)
    pool = [c for c in candidates if lw + len(c) == 0 or 2.0 * min(lw, len(c)) / (lw + len(c)) >= cutoff]
    if not pool:
        return None
    import difflib

    found = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    return found[0] if found else None
