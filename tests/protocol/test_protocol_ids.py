"""Client ids: version-4 UUID strings and 32-hex item ids, unique, immune to random.seed."""

from __future__ import annotations

import random
import re
import uuid

from agentrun.protocol import InputAudioBufferCommit, MessageItem


def test_event_ids_are_unique_version_4_uuids() -> None:
    ids = [InputAudioBufferCommit().event_id for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for event_id in ids[:500]:
        parsed = uuid.UUID(event_id)
        assert str(parsed) == event_id
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_item_ids_are_32_hex_chars_and_unique() -> None:
    ids = [MessageItem(role="user", content=[]).id for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch("[0-9a-f]{32}", item_id) for item_id in ids)


def test_a_plugin_seeding_random_does_not_repeat_ids() -> None:
    random.seed(1)
    first = InputAudioBufferCommit().event_id
    random.seed(1)
    assert InputAudioBufferCommit().event_id != first
