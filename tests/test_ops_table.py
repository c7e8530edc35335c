"""docs/ops.md is generated from the kernel registry: regenerating it must give
the committed file (run `python -m tinylite.tools.ops_table > docs/ops.md`)."""
from pathlib import Path

from tinylite.tools.ops_table import LITERT_BUILTINS, render, rows

DOC = Path(__file__).resolve().parents[1] / "docs" / "ops.md"


def test_ops_md_is_up_to_date():
    assert DOC.read_text() == render(), (
        "docs/ops.md is out of date: run `python -m tinylite.tools.ops_table > docs/ops.md`")


def test_every_litert_builtin_is_listed_and_every_missing_one_says_why():
    listed = {r["name"]: r for r in rows()}
    assert set(LITERT_BUILTINS) <= set(listed)
    for r in listed.values():
        if r["litert"] and not r["tinylite"]:
            assert r["note"], f"{r['name']}: no reason given for leaving it out"


def test_every_kernel_is_in_the_table():
    from tinylite.kernels import supported_ops
    from tinylite.kernels.custom import BUNDLED

    names = {r["name"] for r in rows() if r["tinylite"]}
    assert set(supported_ops()) | set(BUNDLED) == names
