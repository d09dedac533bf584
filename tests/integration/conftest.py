"""Fixtures: a cluster (redis-server + signald nodes), the test's clients
(`net`) and a fresh room id.

Tests without a `cluster` marker share one 2-node cluster per module; after
each of them the nodes must still be running with no sanitizer output.
`@pytest.mark.cluster(nodes=3, env={...}, node_env=[{...}, ...])` gives a
test a cluster of its own, stopped (and checked: exit status 0, no
sanitizer output) at its end.
"""

import uuid

import pytest

from cluster import Cluster
from wsclient import Net


def _fail_with(cluster, problems):
    if problems:
        pytest.fail("\n".join(problems) + "\n" + cluster.logs_since_mark(), pytrace=False)


class SharedCluster:
    """The module's default cluster, started on first use. A test after
    which a node is dead or printed sanitizer errors fails, and the cluster
    is replaced, so that one crash fails one test and not the rest."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.cluster = None

    def get(self):
        if self.cluster is None:
            self.cluster = Cluster(self.tmp_path_factory.mktemp("cluster")).start()
        return self.cluster

    def discard(self):
        cluster, self.cluster = self.cluster, None
        return cluster.stop() if cluster is not None else []


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    shared = SharedCluster(tmp_path_factory)
    yield shared
    cluster = shared.cluster
    if cluster is not None:
        _fail_with(cluster, shared.discard())


@pytest.fixture
def cluster(request, tmp_path_factory):
    marker = request.node.get_closest_marker("cluster")
    if marker is None:
        shared = request.getfixturevalue("shared_cluster")
        cluster = shared.get()
        cluster.mark()
        yield cluster
        problems = cluster.problems_since_mark()
        if problems:
            problems += shared.discard()
        _fail_with(cluster, problems)
    else:
        cluster = Cluster(tmp_path_factory.mktemp("cluster"), **marker.kwargs).start()
        cluster.mark()
        try:
            yield cluster
        finally:
            problems = cluster.stop()
        _fail_with(cluster, problems)


@pytest.fixture
async def net(cluster):
    net = Net(cluster)
    yield net
    await net.close_all()


@pytest.fixture
def room():
    return "it-" + uuid.uuid4().hex


@pytest.fixture
async def trio(net, room):
    """Three members: alice (named Alice) on n1, bob on n2, carol on n1."""
    return await net.join_all(room, [("alice", {"name": "Alice"}), "bob", "carol"])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows what the nodes logged while it ran."""
    outcome = yield
    report = outcome.get_result()
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if report.when == "call" and report.failed and cluster is not None:
        report.sections.append(("signald logs", cluster.logs_since_mark()))
