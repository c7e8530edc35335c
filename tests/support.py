"""What tests share: where the corpus is and how a missing oracle is handled.

The oracles (ai-edge-litert, keras, the shared corpus, chromium) are optional
on a developer's machine; tests that need one skip with the reason.  CI sets
TINYLITE_REQUIRE_ORACLES=1, which turns every such skip into a failure so that
a missing oracle can never pass as green.  (A plain module, not conftest.py:
several conftest.py files share that module name.)"""
import os
from pathlib import Path

import pytest

REQUIRE = os.environ.get("TINYLITE_REQUIRE_ORACLES") == "1"
CORPUS = Path(os.environ.get("TINYLITE_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))


def need(condition: bool, reason: str):
    if not condition:
        if REQUIRE:
            pytest.fail(f"oracle missing in CI: {reason}")
        pytest.skip(reason)

ZOO = Path(os.environ.get("TINYLITE_ZOO", CORPUS.parent / "zoo"))
