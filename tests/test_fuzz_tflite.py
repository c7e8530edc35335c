"""Seeded fuzz of the .tflite path (issue 15): mutants of models built in code
and of the reference corpus and zoo, each run in a memory-capped worker with a
deadline.  Every mutant must run, or fail with one of tinylite's own errors
and a message about the model: no raw exception, no hang, no memory blow-up.
See fuzz_tflite.py for the mutations and the outcomes; run it as a script for
a longer fuzz."""
from fuzz_tflite import built_sources, file_sources, fuzz
from support import CORPUS, need

MUTANTS = 400


def report(result) -> str:
    lines = [f"{outcome} {label}: {detail}" for label, outcome, detail in result["failures"][:20]]
    return f"{dict(result['counts'])} in {result['seconds']:.0f} s\n" + "\n".join(lines)


def test_fuzz_models_built_in_code():
    result = fuzz(MUTANTS, seed=15, timeout=20, use_files=False)
    assert sum(result["counts"].values()) == MUTANTS
    assert not result["failures"], report(result)
    # The mutants reach both outcomes (a fuzz whose mutants all fail to parse tests little).
    assert result["counts"]["ok"] > MUTANTS // 10 and result["counts"]["error"] > MUTANTS // 10, report(result)


def test_fuzz_corpus_and_zoo_files():
    need(CORPUS.is_dir(), f"the reference corpus ({CORPUS}) is not there")
    files = file_sources()
    assert len(files) >= 20, [name for name, _ in files]
    result = fuzz(MUTANTS, seed=15, timeout=20, use_files=True)
    assert sum(result["counts"].values()) == MUTANTS
    assert not result["failures"], report(result)
    assert result["counts"]["ok"] > MUTANTS // 10 and result["counts"]["error"] > MUTANTS // 10, report(result)


def test_mutants_are_seeded():
    from fuzz_tflite import mutants

    sources = built_sources()
    assert list(mutants(sources, 30, 7)) == list(mutants(sources, 30, 7))
    assert list(mutants(sources, 30, 7)) != list(mutants(sources, 30, 8))


def test_the_harness_catches_raw_exceptions_and_blowups(monkeypatch):
    # The classifier itself: a raw exception, a leaked internal and a MemoryError are failures.
    import fuzz_tflite
    import tinylite
    from tinylite.errors import PrepareError

    content = built_sources()[0][1]
    for exc, outcome in ((KeyError(99), "raw"), (PrepareError("Node number 0 (X) failed: IndexError: list"), "raw"),
                         (MemoryError(), "blowup"), (PrepareError("Node number 0 (X): bad option"), "error")):
        def boom(self, exc=exc):
            raise exc
        monkeypatch.setattr(tinylite.Interpreter, "allocate_tensors", boom)
        assert fuzz_tflite.run_mutant(content)[0] == outcome, exc
