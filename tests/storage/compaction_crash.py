"""A process that compacts the people journal and kills itself (-9) midway.

    python -m tests.storage.compaction_crash DATA_DIR STEP

tests/storage/test_compaction.py runs it with STEP = 1, 2, 3...: the process
sends itself SIGKILL just before its STEP-th file-system change (a rename, a
link, an unlink, a directory made or removed, an fsync), so that every
moment between two changes is a crash the test recovers from. It prints
"done" if the compaction finished before reaching STEP.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import sys

from tracker.storage.tinydb_store import TinyDBStorage

CHANGES = ("rename", "replace", "link", "unlink", "mkdir", "rmdir", "fsync")


def kill_at(step: int) -> None:
    """Wrap the file-system changes: the step-th one is never made."""
    count = 0

    def wrap(real):
        @functools.wraps(real)
        def changed(*args, **kwargs):
            nonlocal count
            count += 1
            if count == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        return changed

    for name in CHANGES:
        setattr(os, name, wrap(getattr(os, name)))
    shutil.rmtree = wrap(shutil.rmtree)


def main() -> None:
    data_dir, step = sys.argv[1], int(sys.argv[2])
    storage = TinyDBStorage(data_dir)
    storage.get_contact("")  # the view loaded: only the compaction's changes count
    kill_at(step)
    storage.compact_people()
    print("done", flush=True)


if __name__ == "__main__":
    main()
