"""Signals: Ctrl-C during `tinylite convert` is one line and exit status 130, no
traceback and no output; a write killed before its rename (SIGKILL) leaves a temporary
file named after its target and process, which the next write of that target removes."""
import os
import random
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

from tinylite.flatbuffer.writer import TMP_MARK, atomic_write

ROOT = Path(__file__).resolve().parents[1]
DIGITS_H5 = resources.files("tinylite").joinpath("data/digits_cnn.h5").read_bytes()


def _slow_h5(path):
    """A corrupt .h5 whose read loops until the reader's time limit (10 s): a window
    in which the command is surely inside its conversion."""
    rng = random.Random(158)
    b = bytearray(DIGITS_H5)
    for _ in range(200):
        i = rng.randrange(len(b) * 8)
        b[i // 8] ^= 1 << (i % 8)
    path.write_bytes(bytes(b))


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to time the signal")
@pytest.mark.parametrize("group", [False, True], ids=["process", "terminal-group"])
def test_ctrl_c_during_convert(tmp_path, group):
    _slow_h5(tmp_path / "m.h5")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tinylite.cli", "convert", "m.h5", "-o", "out.tflite"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    # Wait until the command has started its HDF5 reader: it is then converting.
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert _children(proc.pid), "the command never started reading"
    time.sleep(0.3)
    if group:   # what a terminal's Ctrl-C does: SIGINT to the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "tinylite convert: interrupted", err
    assert sorted(os.listdir(tmp_path)) == ["m.h5"]


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftover_of_a_killed_write_is_named_and_removed(tmp_path):
    target = tmp_path / "model.tflite"
    leftover = tmp_path / f".model.tflite{TMP_MARK}{_dead_pid()}-abc123"
    leftover.write_bytes(b"half a model")
    alive = tmp_path / f".model.tflite{TMP_MARK}{os.getppid()}-def456"     # a write still running
    alive.write_bytes(b"in progress")
    other = tmp_path / f".other.tflite{TMP_MARK}{_dead_pid()}-0"              # another target's
    other.write_bytes(b"x")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert not leftover.exists()
    assert alive.exists() and other.exists()


def test_a_killed_write_leaves_a_recognizable_file(tmp_path):
    """SIGKILL between writing and renaming: the file left names its target and process."""
    code = ("import os, sys, tinylite.flatbuffer.writer as w\n"
            "os.replace = lambda *a: os.kill(os.getpid(), 9)\n"
            "w.atomic_write(sys.argv[1], b'data')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.tflite")], env=env, timeout=60)
    assert p.returncode == -signal.SIGKILL
    left = os.listdir(tmp_path)
    assert len(left) == 1, left
    assert left[0].startswith(".m.tflite" + TMP_MARK)
    # The next write of that target cleans it up.
    atomic_write(tmp_path / "m.tflite", b"data")
    assert sorted(os.listdir(tmp_path)) == ["m.tflite"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_reader_child_of_a_killed_command_does_not_outlive_its_time_limit(tmp_path):
    """SIGKILL to a command while its HDF5 reader loops on a corrupt file: the orphaned
    reader ends itself at its time limit instead of spinning forever."""
    _slow_h5(tmp_path / "m.h5")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tinylite.cli", "convert", "m.h5", "-o", "out.tflite"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    children = _children(proc.pid)
    assert children, "the command never started reading"
    proc.kill()
    proc.wait()
    child = int(children[0])
    # The reader's limit is 10 s + the file's size at 20 MB/s, plus 2 s of grace.
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        with open(f"/proc/{child}/stat") as f:
            if f.read().split(")")[-1].split()[0] == "Z":     # a zombie has ended
                break
        time.sleep(0.2)
    alive = os.path.exists(f"/proc/{child}") and open(f"/proc/{child}/stat").read().split(")")[-1].split()[0] != "Z"
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the orphaned HDF5 reader was still running 30 s after its parent was killed"
