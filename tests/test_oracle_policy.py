"""Under TINYLITE_REQUIRE_ORACLES=1 no test can skip: not an importorskip, not a
module-level skip, not Keras on a backend other than the oracle's.  A copy of the
tests' conftest.py and support.py runs a few such tests in a fresh pytest."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SKIPPERS = '''
import pytest
from support import keras_oracle, need

def test_importorskip():
    pytest.importorskip("no_such_module_tinylite_oracle")

def test_need():
    need(False, "an oracle that is not here")

def test_keras_backend():
    keras_oracle()

def test_runs():
    assert True
'''

MODULE_LEVEL = '''
import pytest
pytest.importorskip("no_such_module_tinylite_oracle")

def test_never_collected():
    pass
'''


def run_pytest(tmp_path, require):
    for name in ("conftest.py", "support.py"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_skippers.py").write_text(SKIPPERS)
    (tmp_path / "test_module_level.py").write_text(MODULE_LEVEL)
    env = {k: v for k, v in os.environ.items() if k != "TINYLITE_REQUIRE_ORACLES"}
    env["KERAS_BACKEND"] = "torch"
    if require:
        env["TINYLITE_REQUIRE_ORACLES"] = "1"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", "-rA", str(tmp_path)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout


@pytest.mark.parametrize("require", [True, False])
def test_no_skip_when_oracles_are_required(tmp_path, require):
    code, out = run_pytest(tmp_path, require)
    summary = out.strip().splitlines()[-1]
    if require:
        assert code != 0, out
        assert "3 failed, 1 passed, 1 error" in summary, out
        assert "skipped" not in summary, out
        assert "KERAS_BACKEND=torch" in out
    else:
        assert code == 0, out
        assert "1 passed, 4 skipped" in summary, out


def _extras():
    import tomllib

    with open(HERE.parent / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]


def test_oracles_are_pinned_and_installed_at_their_pins():
    """The corpus was made with ai-edge-litert 2.3.0; tflite-support is declared (installed
    by .ci/run without dependencies, see pyproject.toml).  The running oracle is the pinned one."""
    from importlib import metadata

    from support import need

    extras = _extras()
    assert "ai-edge-litert==2.3.0" in extras["test"]
    assert extras["metadata-oracle-no-deps"] == ["tflite-support==0.4.4"]
    try:
        have = metadata.version("ai-edge-litert")
    except metadata.PackageNotFoundError:
        have = None
    need(have is not None, "ai-edge-litert is not installed (pip install '.[test]')")
    assert have == "2.3.0", f"ai-edge-litert {have} is installed; the oracle is pinned to 2.3.0 (pip install '.[test]')"
    assert '"${no_deps[@]}"' in (HERE.parent / ".ci" / "run").read_text()
