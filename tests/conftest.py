"""Shared fixtures; see support.py for the oracle policy."""
import pytest

from support import CORPUS, REQUIRE, WHERE_THE_CORPUS_COMES_FROM, need


@pytest.fixture(scope="session")
def corpus():
    need(CORPUS.is_dir(), f"shared corpus not found at {CORPUS}: {WHERE_THE_CORPUS_COMES_FROM}")
    return CORPUS


def _no_skips_in_ci(report):
    # Under TINYLITE_REQUIRE_ORACLES=1 every skip is a failure, whatever raised it
    # (pytest.importorskip, a library's own skip, a module-level skip).
    if REQUIRE and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under TINYLITE_REQUIRE_ORACLES=1, which allows no skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _no_skips_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _no_skips_in_ci(outcome.get_result())
