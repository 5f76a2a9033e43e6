"""A second launch hands its patient to the running viewer (over a per-user local socket) and exits."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in
from viewer.ui.single_instance import SingleInstance, server_name

NHS = "9990000018"


def launch_hand_over(name: str, patient: str | None) -> subprocess.Popen[str]:
    """The second launch, in its own process as in real life (it blocks until the first answers)."""
    code = ("import sys\nfrom PySide6.QtCore import QCoreApplication\n"
            "from viewer.ui.single_instance import hand_over\n"
            "app = QCoreApplication([])\n"
            f"sys.exit(0 if hand_over({name!r}, {patient!r}) else 3)\n")
    return subprocess.Popen([sys.executable, "-c", code], text=True)


@pytest.fixture
def instance(qtbot):
    single = SingleInstance(f"wardview-test-{uuid.uuid4().hex[:12]}")
    assert single.listen()
    yield single
    single.close()


def test_the_running_viewer_receives_the_patient_and_the_second_launch_exits(qtbot, instance):
    with qtbot.waitSignal(instance.patient_requested, timeout=20000) as got:
        second = launch_hand_over(instance.name, "999 000 0018")
    assert got.args == [NHS]
    assert second.wait(timeout=20) == 0


def test_with_no_viewer_running_the_launch_starts_its_own(qtbot):
    second = launch_hand_over(f"wardview-test-{uuid.uuid4().hex[:12]}", NHS)
    assert second.wait(timeout=20) == 3


def test_a_malformed_message_is_refused_and_nothing_opens(qtbot, instance):
    from PySide6.QtNetwork import QLocalSocket

    received: list[str] = []
    instance.patient_requested.connect(received.append)
    socket = QLocalSocket()
    socket.connectToServer(instance.name)
    assert socket.waitForConnected(2000)
    socket.write(b'{"patient": "9990000019"}\n')
    qtbot.waitUntil(lambda: socket.bytesAvailable() > 0, timeout=5000)  # the server answers on this loop
    assert bytes(socket.readAll().data()).strip() == b"refused"
    assert received == []


def test_names_differ_per_user_and_mode_and_carry_no_user_name():
    assert server_name(False, "alice") != server_name(False, "bob")
    assert server_name(True, "alice") != server_name(False, "alice")
    assert "alice" not in server_name(False, "alice")


def test_a_handed_over_patient_waits_behind_the_lock_then_opens(qtbot, window_factory, sandbox):
    window = window_factory()
    nhs = patient_number(sandbox, "warfarin-inpatient")
    window.handover(nhs)  # not signed in yet: opens after sign-in
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.view_for(nhs) is not None and loaded(window.view_for(nhs)), timeout=30000)
    window.close_tab(0)
    window.lock_now()
    window.handover(nhs)
    assert window.tabs.count() == 0  # nothing opens, nothing shows, behind the lock
    window.unlock_as("dr.morgan")
    qtbot.waitUntil(lambda: window.view_for(nhs) is not None, timeout=30000)
