"""The collector pause: counted across threads, and the collector's own state restored."""

import gc
import threading

import pytest

from viewer.record.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_waits_inside_and_runs_again_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_exception_still_ends_the_pause() -> None:
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_overlapping_pauses_on_two_threads_end_with_the_last() -> None:
    """The GP and hospital records are mapped on two threads at once: the first to finish must not let the
    collector loose in the middle of the other's work (as a pause that only remembered gc.isenabled()
    would: the second pause saw it disabled and the first re-enabled it)."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first pause has ended; this one has not

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_start_up_objects_are_frozen_out_of_later_passes() -> None:
    from viewer.record.collector import keep_start_up_objects_out_of_collections

    kept = [object() for _ in range(3)] + [[]]  # a tracked container alive at "start-up"
    try:
        keep_start_up_objects_out_of_collections()
        assert gc.get_freeze_count() > 0
        assert not any(kept[-1] is o for gen in range(3) for o in gc.get_objects(gen))  # not walked again
    finally:
        gc.unfreeze()
