"""Test-only fault injection, loaded at interpreter start-up when this folder is on
PYTHONPATH (tests/test_workflow_behaviour.py puts it there for the runs it interrupts).

With ``FEASIBILITY_PAUSE_ON=<path fragment>``, the first atomic write whose target path
contains the fragment writes its temporary file, creates ``$FEASIBILITY_PAUSE_MARKER``
and then sleeps for ``$FEASIBILITY_PAUSE_SECONDS`` (default 600) before moving the file
into place: the job is caught in the middle of writing its output, where a signal
does the most harm.
"""

import os

if os.environ.get("FEASIBILITY_PAUSE_ON"):
    import time
    from contextlib import contextmanager
    from pathlib import Path

    import feasibility.io as _io

    _fragment = os.environ["FEASIBILITY_PAUSE_ON"]
    _marker = Path(os.environ["FEASIBILITY_PAUSE_MARKER"])
    _seconds = float(os.environ.get("FEASIBILITY_PAUSE_SECONDS", "600"))
    _atomic_path = _io.atomic_path

    @contextmanager
    def _paused_atomic_path(path):
        with _atomic_path(path) as tmp:
            yield tmp
            if _fragment in str(path) and not _marker.exists():
                _marker.write_text(str(path))
                time.sleep(_seconds)

    _io.atomic_path = _paused_atomic_path
