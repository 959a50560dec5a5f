"""core.interrupts: the call's value and error come back as if called directly; the main thread's
signal handler runs while the call blocks (no server: a sleeping call and a signal to ourselves)."""

import os
import signal
import threading
import time

import pytest

from taxi_assets.core.interrupts import interruptible


def test_value_and_error_come_back():
    assert interruptible(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        interruptible(lambda: 1 / 0)


def test_a_signal_handled_by_another_thread_still_interrupts_the_wait_at_once():
    class Stop(BaseException):
        pass

    def handler(signo, frame):
        raise Stop()

    previous = signal.signal(signal.SIGUSR1, handler)
    # the signal is sent from another thread while the call blocks far longer than the test allows
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
    t0 = time.monotonic()
    try:
        with pytest.raises(Stop):
            interruptible(time.sleep, 30)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert time.monotonic() - t0 < 2


def test_called_from_another_thread_it_is_a_plain_call():
    names = []
    worker = threading.Thread(target=lambda: names.append(interruptible(lambda: threading.current_thread().name)),
                              name="not-main")
    worker.start()
    worker.join()
    assert names == ["not-main"]
