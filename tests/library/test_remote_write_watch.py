"""RemoteWriteWatch: a remote-write failure the store does not explain is final once it stood."""

from __future__ import annotations

import threading

from scanium_e2e.pipeline import RemoteWriteWatch


def test_a_failure_is_final_once_it_has_stood_for_the_hold() -> None:
    watch = RemoteWriteWatch()
    assert watch.failing_since is None
    assert not watch.note(True, 10.0, hold_s=1.0)
    assert watch.failing_since == 10.0
    assert not watch.note(True, 10.5, hold_s=1.0)
    assert watch.note(True, 11.0, hold_s=1.0)
    # The first sighting stays the clock's start while the failure stands.
    assert watch.failing_since == 10.0


def test_a_clear_reading_starts_the_clock_again() -> None:
    watch = RemoteWriteWatch()
    watch.note(True, 10.0, hold_s=1.0)
    assert not watch.note(False, 10.5, hold_s=1.0)
    assert watch.failing_since is None
    assert not watch.note(True, 11.0, hold_s=1.0)
    assert watch.failing_since == 11.0


def test_threads_noting_at_once_share_one_first_sighting() -> None:
    # Every count check polls from its own thread: of simultaneous first sightings, one
    # starts the clock and the others read it, so none moves it later.
    watch = RemoteWriteWatch()
    threads = 16
    barrier = threading.Barrier(threads, timeout=5)
    verdicts: list[bool] = []
    lock = threading.Lock()

    def sight(index: int) -> None:
        barrier.wait()
        stood = watch.note(True, 100.0 + index / 100, hold_s=1.0)
        with lock:
            verdicts.append(stood)

    workers = [threading.Thread(target=sight, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert verdicts == [False] * threads
    since = watch.failing_since
    assert since is not None and 100.0 <= since < 100.0 + threads / 100
    assert watch.note(True, since + 1.0, hold_s=1.0)
