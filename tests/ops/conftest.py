import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from opsenv import Cluster  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def cluster(request, tmp_path):
    """A set of real processes for one test; all stopped by PID afterwards.
    Their logs are printed when the test failed."""
    c = Cluster(tmp_path)
    yield c
    unclean = c.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if (rep is not None and rep.failed) or unclean:
        sys.stderr.write("\n" + c.logs() + "\n")
    # Every node shuts down cleanly on SIGTERM (with an ASan build: no leak
    # or error report either).
    assert not unclean, f"signald nodes that did not exit with 0 on SIGTERM: {unclean}"
