"""Fixtures of the serving tests (defined in server_support.py)."""
from server_support import model_root, server  # noqa: F401
