"""What not to do: one `TinyDB().insert()` per beacon on TinyDB's default storage.

TinyDB's JSONStorage reads the whole file and rewrites it in place on every
insert, so the cost of an event grows with the database: that is what this
variant is here to show, and it is not a design.

Two changes keep it *working* under several gunicorn workers, so that it can
be measured at all, without changing its cost (one full read and one full
rewrite per insert):

- an exclusive `flock` around the insert. Without it, two workers rewriting
  the file at once corrupt it within the first second of load, and every
  request after that answers 500 (JSONDecodeError) — measured, not guessed;
- a document id from the clock instead of TinyDB's per-process id counter,
  which hands two processes the same id (ValueError, 500).

    POLKU_DATA_DIR=/tmp/x gunicorn -w 2 -b 127.0.0.1:8000 'bench.naive:create_app()'
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import UTC, datetime

from flask import Flask, request
from tinydb import TinyDB
from tinydb.table import Document

FILENAME = "naive.json"


def db_path(data_dir: str) -> str:
    return os.path.join(data_dir, FILENAME)


def create_app() -> Flask:
    app = Flask(__name__)
    data_dir = os.environ.get("POLKU_DATA_DIR", "var")
    os.makedirs(data_dir, exist_ok=True)
    # gunicorn (without --preload) calls the factory in each worker: one
    # TinyDB instance per process, all on the same file.
    db = TinyDB(db_path(data_dir))
    lock_path = db_path(data_dir) + ".lock"

    @app.post("/api/event")
    def event():
        doc = json.loads(request.get_data())
        doc["ts"] = datetime.now(UTC).isoformat()
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # ids from the clock: unique across processes (taken under the lock)
            db.insert(Document(doc, doc_id=time.time_ns()))
        return "", 202

    return app
