"""What the command line prints besides results: warnings as one line each."""
from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show each distinct warning once, as one line 'eventsim: warning: ...' on stderr (not
    Python's two lines with the source line)."""
    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"eventsim: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield
