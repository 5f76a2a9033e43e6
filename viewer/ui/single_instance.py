"""One viewer per user session: a second launch (a `wardview://` link, `--patient`) hands its patient to
the running window and exits, so a ward PC never has two viewers with two sign-ins and two locks.

A QLocalServer named per OS user and per mode (synthetic sandbox data never reaches a real viewer), only
reachable by the same user. The message is one line of JSON with at most a valid NHS number: the running
window still asks for sign-in, checks the role and the care relationship, and audits, as for a typed number.

Signals (of SingleInstance):
    patient_requested(str): another launch asked for this patient (normalised NHS number, or "" to just
        bring the window forward).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from viewer.domain.nhs_number import is_valid, normalise

log = logging.getLogger(__name__)

CONNECT_MS = 500
REPLY_MS = 2000
MAX_MESSAGE = 256


def server_name(sandbox: bool, user: str | None = None) -> str:
    """Per OS user (hashed: no user name in a socket path) and per mode."""
    who = user if user is not None else getpass.getuser()
    digest = hashlib.sha256(who.encode()).hexdigest()[:16]
    return f"wardview-{'sandbox-' if sandbox else ''}{digest}"


def hand_over(name: str, patient: str | None) -> bool:
    """Give `patient` to a running viewer; True when one took it (this launch should then exit)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(json.dumps({"patient": patient or ""}).encode() + b"\n")
    socket.flush()
    accepted = socket.waitForReadyRead(REPLY_MS) and bytes(socket.readAll().data()).strip() == b"ok"
    socket.disconnectFromServer()
    return accepted


class SingleInstance(QObject):
    patient_requested = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Listen; a stale socket left by a killed viewer is removed first (hand_over failed, so no
        viewer answers on it)."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self.server.listen(self.name):
            return True
        log.warning("Single-instance server could not listen (%s)", self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            if socket.bytesAvailable() > MAX_MESSAGE:
                socket.abort()
            return
        line = bytes(socket.readLine(MAX_MESSAGE + 1).data())
        patient = _patient_of(line)
        if patient is None:
            log.warning("Ignored a malformed hand-over from another launch")
            socket.write(b"refused\n")
        else:
            socket.write(b"ok\n")
            self.patient_requested.emit(patient)
        socket.flush()
        socket.disconnectFromServer()


def _patient_of(line: bytes) -> str | None:
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("patient", ""), str):
        return None
    patient = message.get("patient", "")
    if patient == "":
        return ""
    return normalise(patient) if is_valid(patient) else None
