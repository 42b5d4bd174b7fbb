"""A progress bar on stderr for long runs on a terminal.

Imported only when a run has lasted about a second (the CLI's hook decides; see
`cli._progress_hook`), so small runs and pre-commit hooks never load it. It draws one line,
rewritten in place with a carriage return, and erases it when the run ends, so the report that
follows is unchanged. No colour, no third-party library.
"""

from __future__ import annotations

import os
import time


class Bar:
    def __init__(self, stream, width: int | None = None) -> None:
        self.stream = stream
        try:
            columns = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 80
        self.columns = max(40, width or columns)
        self.last = 0.0
        self.drawn = False

    def update(self, done: int, total: int, label: str = "") -> None:
        now = time.monotonic()
        if self.drawn and now - self.last < 0.1 and done < total:
            return  # at most ten redraws a second
        self.last = now
        total = max(total, 1)
        count = f" {done}/{total} files "
        bar_width = max(10, min(40, self.columns - len(count) - 30))
        filled = int(bar_width * done / total)
        head = f"pgpath [{'#' * filled}{'.' * (bar_width - filled)}]{count}"
        room = self.columns - len(head) - 1
        if label and room > 8:
            label = label if len(label) <= room else "…" + label[-(room - 1):]
        else:
            label = ""
        self.stream.write("\r" + head + label + "\033[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False
