"""Reliability tests: the real tracker under gunicorn, crashed and starved."""
