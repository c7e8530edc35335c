"""Shared fixtures; see support.py for the oracle policy."""
import pytest

from support import CORPUS, need


@pytest.fixture(scope="session")
def corpus():
    need(CORPUS.is_dir(), f"shared corpus not found at {CORPUS}")
    return CORPUS
