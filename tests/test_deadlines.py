"""Shared-timer deadlines (datagen/backends/deadlines.py): a request that outlasts its deadline gets
TimeoutError, one that finishes is never cancelled later, and a cancellation from elsewhere stays a
cancellation, as with asyncio.timeout()."""
from __future__ import annotations

import asyncio
import time

import pytest

from datagen.backends.deadlines import Deadlines


async def outlast(deadlines: Deadlines) -> float:
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        with deadlines.deadline():
            await asyncio.Event().wait()  # never set
    return time.monotonic() - t0


def test_a_block_that_outlasts_its_deadline_raises_timeout_error_within_one_slot():
    deadlines = Deadlines(0.2)  # slot 0.01 s
    waited = asyncio.run(outlast(deadlines))
    assert 0.2 <= waited < 0.2 + 0.15  # the deadline plus a slot, and the loop's own lateness
    assert not deadlines._due  # nothing left waiting


def test_many_blocks_share_timers_and_each_times_out():
    async def many() -> list:
        return await asyncio.gather(*(outlast(deadlines) for _ in range(50)), return_exceptions=True)

    deadlines = Deadlines(0.2)
    waited = asyncio.run(many())
    assert all(isinstance(w, float) and 0.2 <= w < 0.4 for w in waited), waited


def test_a_block_that_finishes_in_time_is_not_cancelled_afterwards():
    async def finish() -> str:
        with deadlines.deadline():
            await asyncio.sleep(0)
        # past the deadline: a stray cancellation would end this wait with CancelledError
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 0.3)
        return "done"

    deadlines = Deadlines(0.1)
    assert asyncio.run(finish()) == "done"


def test_a_cancellation_from_elsewhere_stays_a_cancellation():
    async def cancelled() -> None:
        async def blocked() -> None:
            with deadlines.deadline():
                await asyncio.Event().wait()

        task = asyncio.ensure_future(blocked())
        await asyncio.sleep(0)  # let it enter its deadline
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not any(deadlines._due.values())  # its deadline was withdrawn

    deadlines = Deadlines(30.0)
    asyncio.run(cancelled())


def test_deadlines_work_on_a_second_event_loop():
    deadlines = Deadlines(0.1)
    asyncio.run(outlast(deadlines))
    assert 0.1 <= asyncio.run(outlast(deadlines)) < 0.3

