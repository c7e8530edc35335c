"""Read the HDF5 parts of a Keras file in a child process, with a time limit.

HDF5 files are read by the HDF5 C library, which trusts the file's internal
pointers: a corrupted one (a few flipped bits) can send it into an endless
loop inside a single h5py call, which no Python code in the same process can
interrupt.  So the parent never opens a Keras HDF5 file itself: this module,
run as a script by `read` (importing only numpy and h5py, not tinylite), reads
everything the converter needs into a plain .npz plus a JSON manifest, and the
parent kills it when it runs past its time limit (then starts a new one).  The child also refuses a
dataset larger than the file could hold, so a corrupted shape cannot make it
allocate gigabytes.

Legacy .h5 (``kind="h5"``): manifest {"model_config", "keras_version",
"layers": {layer group: [[weight name, array key], ...]}}.
.keras weights (``kind="vars"``): {"vars": {group path: [array key, ...]},
"names": {layer name: group path}}.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading

# Seconds a read may take: a fixed allowance (starting the child, opening the
# file, the config) plus time to read the file at a slow disk's 20 MB/s.
BASE_TIMEOUT = 10.0
BYTES_PER_SECOND = 20e6
# A dataset may not claim more bytes than this many times the file's size (Keras
# writes weights uncompressed; gzip on float weights gains far less than this).
MAX_EXPANSION = 64


class ReadError(Exception):
    """The child could not read the file; the message says why (no path in it)."""


def read(path: str, kind: str, timeout: float | None = None):
    """(manifest, arrays) of the HDF5 file at `path`, read in the child process.

    Raises ReadError with the reason when the file cannot be read or the read
    does not finish in time."""
    import numpy as np

    if timeout is None:
        timeout = BASE_TIMEOUT + os.path.getsize(path) / BYTES_PER_SECOND
    with tempfile.TemporaryDirectory(prefix="tinylite-h5-") as tmp:
        out = os.path.join(tmp, "arrays.npz")
        reply = _READER.request([kind, os.path.abspath(path), out, timeout], timeout)
        if "error" in reply:
            raise ReadError(reply["error"])
        with np.load(out, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    return reply["manifest"], arrays


# Runs this file as the child's main module.  Not `python h5read.py`: that would put
# this folder first on sys.path, where config.py, layers.py, ... would shadow other
# modules; nor the current directory, for the same reason.
_BOOT = ("import sys, runpy; sys.path = [p for p in sys.path if p not in ('', '.')]; "
         "f = sys.argv.pop(1); runpy.run_path(f, run_name='__main__')")


class _Reader:
    """One long-lived child serving reads one at a time (starting Python with numpy
    and h5py costs ~0.5 s, paid once).  A child that overruns a read is killed and
    the next read starts a new one."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None
        self.lines: queue.Queue | None = None

    def _start(self):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, __file__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.lines = lines = queue.Queue()
        stdout = self.proc.stdout

        def pump():
            for line in stdout:
                lines.put(line)
            lines.put(None)
        threading.Thread(target=pump, name="tinylite-h5-reader", daemon=True).start()

    def _stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def request(self, job, timeout):
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            try:
                self.proc.stdin.write(json.dumps(job) + "\n")
                self.proc.stdin.flush()
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self._stop()
                return {"error": f"reading it did not finish within {timeout:.0f} s: the HDF5 library loops on "
                                 "this file, which happens when its internal structure is corrupt"}
            except OSError:
                line = None
            except BaseException:
                # Interrupted (Ctrl-C) while the child works: its late reply must not be
                # taken for the next request's, so this child goes.
                self._stop()
                raise
            if line is None:
                code = self.proc.wait()
                self.proc = None
                return {"error": f"the HDF5 library crashed on it (reader exit status {code})"}
            return json.loads(line)


_READER = _Reader()


# -- the child ------------------------------------------------------------------------------

def _text(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _child(kind: str, path: str, out: str) -> dict:
    import h5py
    import numpy as np

    limit = MAX_EXPANSION * os.path.getsize(path) + (1 << 20)
    arrays: dict[str, np.ndarray] = {}

    def take(ds, where):
        if not isinstance(ds, h5py.Dataset):
            raise ValueError(f"{where!r} is not a dataset")
        nbytes = int(np.prod(ds.shape, dtype=np.float64)) * ds.dtype.itemsize if ds.shape is not None else 0
        if nbytes > limit:
            raise ValueError(f"dataset {where!r} claims {nbytes} bytes ({list(ds.shape)} x {ds.dtype}), more than "
                             "the file could hold")
        key = f"a{len(arrays)}"
        value = np.asarray(ds[()])
        if value.dtype.kind not in "biufSU":
            raise ValueError(f"dataset {where!r} holds {value.dtype} values, not numbers")
        arrays[key] = value
        return key

    with h5py.File(path, "r") as f:
        if kind == "h5":
            raw = f.attrs.get("model_config")
            manifest = {"model_config": None if raw is None else _text(raw),
                        "keras_version": _text(f.attrs.get("keras_version", "3")), "layers": {}}
            if raw is not None:
                group = f["model_weights"] if "model_weights" in f else f
                for lname in group.keys():
                    g = group[lname]
                    if not isinstance(g, h5py.Group):
                        continue
                    names = [_text(n) for n in g.attrs.get("weight_names", [])]
                    manifest["layers"][lname] = [[n, take(g[n], f"{lname}/{n}")] for n in names]
        else:
            manifest = {"vars": {}, "names": {}}

            def visit(name, obj):
                if isinstance(obj, h5py.Group) and name.endswith("vars"):
                    keys = sorted(obj.keys(), key=_int_key)
                    gpath = name[:-len("/vars")] if name != "vars" else ""
                    manifest["vars"][gpath] = [take(obj[k], f"{name}/{k}") for k in keys]
                    lname = obj.attrs.get("name")
                    if lname is not None:
                        manifest["names"].setdefault(_text(lname), gpath)

            f.visititems(visit)
    np.savez(out, **arrays)
    return manifest


def _int_key(k):
    try:
        return (0, int(k))
    except ValueError:
        return (1, k)


def _alarm(seconds: float) -> None:
    """Have the kernel end this process `seconds` from now (0: cancel).  SIGALRM keeps its
    default action, termination, which works even while the HDF5 library loops in C (no
    Python handler could run then): a child whose parent was killed mid-read, and so can
    no longer kill it, does not spin forever."""
    import math
    import signal

    if hasattr(signal, "alarm"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(math.ceil(seconds) + 2 if seconds else 0)


def _serve():
    # An idle child ends when its parent does: reading stdin then gives end of file.
    for line in sys.stdin:
        kind, path, out, limit = json.loads(line)
        _alarm(limit)
        try:
            reply = {"manifest": _child(kind, path, out)}
        except Exception as e:  # noqa: BLE001 - every failure goes back to the parent as its message
            message = str(e).replace("\n", " ")[:500] or type(e).__name__
            reply = {"error": f"{type(e).__name__}: {message}"}
        finally:
            _alarm(0)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
