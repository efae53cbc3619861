import json
def test_smoke(server, publisher, channel):
    with server.open(channel) as stream:
        print(stream.status, stream.response.getheaders())
        print(stream.wait_open())
        ids = publisher.publish_many(channel, 3)
        evs = stream.events(3)
        print(evs)
        assert [e.id for e in evs] == ids
    with server.open(channel, last_event_id=ids[0]) as stream:
        evs = stream.events(2)
        assert [e.id for e in evs] == ids[1:]
        print(stream.next_block(2))
