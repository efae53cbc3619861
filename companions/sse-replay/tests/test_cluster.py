"""A Redis Cluster of three masters: channels on every node, served by both apps.

Each channel is one key, ``sse-replay:{channel}``, and every command touches
that key only (the publish script included), so a cluster serves it as a
single Redis does.
"""
from __future__ import annotations

import subprocess

import pytest
import redis
from redis.cluster import RedisCluster

from harness import SERVER_SETTINGS, Publisher, StreamServer
from servers import GunicornServer, RedisServer, UvicornServer, wait_until

NODES = 3


class ClusterNode(RedisServer):
    name = "redis-cluster-node"

    def command(self, port: int) -> list:
        return super().command(port) + [
            "--cluster-enabled", "yes",
            "--cluster-config-file", f"nodes-{port}.conf",
        ]


def cluster_ok(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_timeout=1).cluster("info")["cluster_state"] == "ok"
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    nodes = [ClusterNode(tmp_path_factory.mktemp(f"cluster-node-{index}")).start() for index in range(NODES)]
    try:
        subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{node.port}" for node in nodes], "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for node in nodes:
            wait_until(lambda: cluster_ok(node.port), 30, f"cluster state ok on {node.port}")
        yield nodes
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture(scope="module")
def cluster_servers(cluster, tmp_path_factory):
    environment = {"REDIS_URL": cluster[0].url, "SSE_REPLAY_REDIS_CLUSTER": "1", **SERVER_SETTINGS}
    flask = GunicornServer(tmp_path_factory.mktemp("cluster-gunicorn"), environment, "flask_app:app", workers=2).start()
    starlette = UvicornServer(tmp_path_factory.mktemp("cluster-uvicorn"), environment, "starlette_app:app").start()
    yield [StreamServer("flask", flask.port, b"\n"), StreamServer("starlette", starlette.port, b"\r\n")]
    flask.stop()
    starlette.stop()


def channels_on_every_node(cluster_client: RedisCluster) -> list:
    """A channel name for each master, found by asking the client where keys go."""
    by_node = {}
    candidate = 0
    while len(by_node) < NODES:
        name = f"cluster-channel-{candidate}"
        node = cluster_client.get_node_from_key(f"sse-replay:{{{name}}}")
        by_node.setdefault(node.name, name)
        candidate += 1
    return list(by_node.values())


def test_channels_on_every_node_replay_exactly_and_resync(cluster, cluster_servers):
    cluster_client = RedisCluster(host="127.0.0.1", port=cluster[0].port, decode_responses=True)
    publisher = Publisher(cluster[0].url, SSE_REPLAY_REDIS_CLUSTER=True)
    for channel in channels_on_every_node(cluster_client):
        ids = publisher.publish_many(channel, 5)
        assert [entry_id for entry_id, _ in cluster_client.xrange(f"sse-replay:{{{channel}}}")] == ids
        for server in cluster_servers:
            with server.open(channel, last_event_id=ids[1]) as stream:
                assert [event.id for event in stream.events(len(ids) - 2)] == ids[2:]
                live = publisher.publish({"n": "live"}, channel=channel)
                assert stream.next_event().id == live
                ids.append(live)
            future = f"{int(ids[-1].split('-')[0]) + 1000}-0"
            with server.open(channel, last_event_id=future) as stream:
                assert stream.next_event().json() == {"last_event_id": future, "oldest_id": ids[0]}
                assert [event.id for event in stream.events(len(ids))] == ids
