"""The main window: sign-in page, then the workspace of patient tabs (one patient per tab)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from viewer.auth.session_policy import Clock, SessionPolicy, utc_now
from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.provenance import SourceKind
from viewer.services.relationship import NeedsEmergencyAccess
from viewer.ui.eliding_label import ElidingLabel
from viewer.ui.emergency_dialog import EmergencyAccessDialog
from viewer.ui.idle import IdleWatcher
from viewer.ui.lazy_classes import LazyClassWarmup
from viewer.ui.lock_screen import LockScreen, LockWarningStrip, spoken_name
from viewer.ui.nhs_entry import NhsNumberEdit
from viewer.ui.patient_menu import PatientMenuButton
from viewer.ui.patient_view import PatientView
from viewer.ui.record_actions import RecordActions
from viewer.ui.reopen_dialog import ReopenPatientsDialog
from viewer.ui.role_picker import RolePickerDialog
from viewer.ui.runner import AsyncRunner
from viewer.ui.shortcuts_dialog import ShortcutsDialog
from viewer.ui.sign_in_page import SignInPage

log = logging.getLogger(__name__)

LOCKED_TITLE = "Wardview - locked"
SESSION_EVENTS = ("lock", "unlock", "switch", "expired")  # what `on_session_event` is called with
REFRESH_CHECK_MS = 30_000
REFRESH_FAILED = "Your sign-in has expired: please sign in again"


class WorkspacePort(Protocol):
    """What the window needs from the Qt-free services (viewer.services.workspace.Workspace)."""

    sandbox: bool
    demo_users: list[tuple[str, str]]
    demo_patients: list[tuple[str, str]]

    async def sign_in(self, username: str | None) -> Any: ...
    async def sign_out(self, session: Any) -> None: ...
    organisation: str

    async def open_record(
        self, nhs_number: str, session: Any, on_update: Any, *, emergency_reason: str | None = None
    ) -> Any: ...
    def role_choices(self, session: Any) -> list[tuple[str, str]]: ...
    def select_role(self, session: Any, role_id: str) -> None: ...
    def blocked_reason(self, session: Any) -> str | None: ...
    def who(self, session: Any) -> str: ...
    # optional, used when present: record_closed, left_open, forget_left_open, record_event
    def needs_refresh(self, session: Any, now: datetime | None = None) -> bool: ...
    async def refresh(self, session: Any) -> None: ...
    async def search_patients(self, criteria: Any, session: Any) -> list[Any]: ...
    # optional: recent_patients(session, limit) -> [(NHS number, kept name or '')], newest first


class MainWindow(QMainWindow):
    """`session_policy` and `clock` time the idle lock and the session limit (tests pass a fake clock);
    `on_session_event` is told of each lock, unlock, switch of clinician and expiry (for the audit);
    `recent_limit` is how many recent patients the find bar lists (Settings `recent_patients`)."""

    def __init__(
        self,
        workspace: WorkspacePort,
        runner: AsyncRunner,
        parent: QWidget | None = None,
        *,
        session_policy: SessionPolicy | None = None,
        clock: Clock = utc_now,
        on_session_event: Callable[[str], None] | None = None,
        recent_limit: int = 10,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.recent_limit = recent_limit
        self.runner = runner
        self.session: Any = None
        self.emergency_dialog: EmergencyAccessDialog | None = None
        self.reopen_dialog: ReopenPatientsDialog | None = None
        self._pending_patient: str | None = None
        self._screenshot: tuple[Path, bool] | None = None
        self._base_title = "Wardview" + (" - SANDBOX (synthetic patients only)" if workspace.sandbox else "")
        self.setWindowTitle(self._base_title)
        self.setObjectName("mainWindow")

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        if workspace.sandbox:
            notice = QLabel(
                "SANDBOX - synthetic patients only, not for clinical use", objectName="sandboxNotice"
            )
            notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
            outer.addWidget(notice)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.sign_in_page = SignInPage(workspace.demo_users)
        self.sign_in_page.sign_in_requested.connect(self._sign_in)
        self.stack.addWidget(self.sign_in_page)
        self.stack.addWidget(self._build_workspace())
        self._build_actions()
        self.record_actions = RecordActions(self)
        self._build_lock(outer, session_policy or SessionPolicy(), clock, on_session_event)
        self._build_token_refresh()
        self.statusBar().showMessage("Not signed in")
        # made while the sign-in page waits, so no patient tab pays for them in one go (lazy_classes.py)
        self.lazy_classes = LazyClassWarmup(parent=self)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.lazy_classes.start()  # once, from the first show

    # ----- building -----------------------------------------------------------------------
    def _build_workspace(self) -> QWidget:
        page = QWidget(objectName="workspace")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QWidget(objectName="findBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(QLabel("NHS number", objectName="findLabel"))
        self.nhs_edit = NhsNumberEdit()
        self.nhs_edit.setMinimumWidth(self.nhs_edit.fontMetrics().horizontalAdvance("0") * 18)
        self.nhs_edit.returnPressed.connect(self.open_from_entry)
        row.addWidget(self.nhs_edit)
        self.open_button = QPushButton("Open record", objectName="openButton", enabled=False)
        self.open_button.setAccessibleName("Open record")
        self.open_button.clicked.connect(self.open_from_entry)
        self.nhs_edit.validity_changed.connect(self.open_button.setEnabled)
        row.addWidget(self.open_button)
        self.find_button = QPushButton("Find patient…", objectName="findButton")
        self.find_button.setAccessibleName("Find patient by name and date of birth")
        self.find_button.setToolTip("Search by name, date of birth and postcode (Ctrl+F)")
        row.addWidget(self.find_button)
        self.demo_patients = PatientMenuButton(
            "Demo", object_name="demoPatients", accessible_name="Demo patients",
            tooltip="Open one of the sandbox's synthetic patients", empty_text="No demo patients")
        self.demo_patients.show_patients(self.workspace.demo_patients)
        self.demo_patients.patient_chosen.connect(self.open_patient)
        self.demo_patients.setVisible(bool(self.workspace.demo_patients))
        row.addWidget(self.demo_patients)
        self.recent = PatientMenuButton(
            "Recent patients", object_name="recentPatients", accessible_name="Recent patients",
            tooltip="Patients you opened recently on this PC", empty_text="No patients opened yet")
        self.recent.patient_chosen.connect(self.open_patient)
        self.recent.setVisible(hasattr(self.workspace, "recent_patients"))
        row.addWidget(self.recent)
        row.addStretch(1)
        # on a narrow bar the role gives way first: who is signed in is what the clinician checks
        self.user_label = ElidingLabel("", objectName="userLabel", mode=Qt.TextElideMode.ElideRight)
        self.user_label.setAccessibleName("Signed-in clinician and role")
        row.addWidget(self.user_label)
        self.sign_out_button = QPushButton("Sign out", objectName="signOutButton")
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out)
        row.addWidget(self.sign_out_button)
        layout.addWidget(bar)
        self.tabs = QTabWidget(objectName="patientTabs", tabsClosable=True, documentMode=True)
        self.tabs.setAccessibleName("Open patients")
        self.tabs.tabCloseRequested.connect(self.close_tab)
        layout.addWidget(self.tabs, 1)
        return page

    def _build_actions(self) -> None:
        close = QAction("Close patient", self, shortcut=QKeySequence("Ctrl+W"))
        close.triggered.connect(lambda: self.close_tab(self.tabs.currentIndex()))
        following = QAction("Next patient", self, shortcut=QKeySequence("Ctrl+PgDown"))
        following.triggered.connect(lambda: self._step_tab(1))
        previous = QAction("Previous patient", self, shortcut=QKeySequence("Ctrl+PgUp"))
        previous.triggered.connect(lambda: self._step_tab(-1))
        keys = QAction("Keyboard shortcuts", self, shortcut=QKeySequence("F1"))
        keys.triggered.connect(self.show_shortcuts)
        for action in (close, following, previous, keys):
            self.addAction(action)

    def _step_tab(self, step: int) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.actions(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ----- unattended launch (sandbox demos, contextual launch, screenshots) ---------------------
    def sign_in_as(self, username: str) -> None:
        index = self.sign_in_page.users.findData(username)
        if index < 0:
            self.sign_in_page.set_busy(False, f"No demo clinician called {username!r}.")
            return
        self.sign_in_page.users.setCurrentIndex(index)
        self.sign_in_page.set_busy(True, "Signing in…")
        self._sign_in(username)

    def open_after_sign_in(self, nhs_number: str) -> None:
        if self.session is not None:
            self.open_patient(nhs_number)
        else:
            self._pending_patient = nhs_number

    def handover(self, nhs_number: str) -> None:
        """Another launch (a `wardview://` link, `--patient`) asked for this patient: bring the window
        forward, and open the patient once a clinician is signed in and the screen is unlocked (the lock
        screen never shows whose record is waiting)."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        if not nhs_number:
            return
        if self.session is not None and not self.locked:
            self.open_patient(nhs_number)
        else:
            self._pending_patient = nhs_number

    def screenshot_when_loaded(self, path: Path, *, quit_after: bool) -> None:
        self._screenshot = (path, quit_after)

    def _take_screenshot(self) -> None:
        path, quit_after = self._screenshot or (None, False)
        self._screenshot = None

        def grab() -> None:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.grab().save(str(path))
            if quit_after:
                QApplication.quit()

        QTimer.singleShot(400, grab)

    # ----- sign-in --------------------------------------------------------------------------
    def _sign_in(self, username: str | None) -> None:
        self._username = username
        self.runner.submit(self.workspace.sign_in(username), self._signed_in, self._sign_in_failed)

    def _sign_in_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "user_message", None) or "Sign-in failed. Please try again."
        log.warning("Sign-in failed (%s)", type(exc).__name__)
        self.sign_in_page.set_busy(False, message)

    def _signed_in(self, session: Any) -> None:
        choices = self.workspace.role_choices(session)
        chosen = getattr(session, "selected_role", None)
        if choices and (chosen is None or chosen.person_roleid not in {c[0] for c in choices}):
            if len(choices) > 1:
                dialog = RolePickerDialog(choices, self)
                if dialog.exec() != QDialog.DialogCode.Accepted or dialog.selected_role_id() is None:
                    self.sign_in_page.set_busy(False, "Sign-in cancelled: no role chosen.")
                    return
                self.workspace.select_role(session, dialog.selected_role_id())
            else:
                self.workspace.select_role(session, choices[0][0])
        blocked = self.workspace.blocked_reason(session)
        if blocked is not None:
            self.sign_in_page.set_busy(False, blocked)
            return
        self.session = session
        self.user_label.setText(self.workspace.who(session))
        self.user_label.setToolTip(self.workspace.who(session))
        self.sign_in_page.set_busy(False)
        self.stack.setCurrentIndex(1)
        self.nhs_edit.setFocus()
        problem = getattr(self.workspace, "keyring_problem", None)
        self.statusBar().showMessage(problem or "Signed in")
        self._session_started()
        self.refresh_recent()
        self._offer_reopen(session)
        if self._pending_patient:
            patient, self._pending_patient = self._pending_patient, None
            self.open_patient(patient)
        elif self._screenshot is not None:
            self._take_screenshot()

    def sign_out(self) -> None:
        self._session_stopped()
        session, self.session = self.session, None
        self.recent.show_patients([])  # the next clinician never sees this one's patients
        while self.tabs.count():
            self.close_tab(0)
        self.stack.setCurrentIndex(0)
        self.statusBar().showMessage("Signed out")
        if session is not None:
            self.runner.submit(self.workspace.sign_out(session))

    def _offer_reopen(self, session: Any) -> None:
        """After a crash or a kill, offer this clinician the patients they had open (never another's)."""
        left_open = getattr(self.workspace, "left_open", None)
        if left_open is None:
            return

        def offer(patients: list[tuple[str, str]]) -> None:
            if not patients or self.session is not session or self.locked:
                return
            dialog = ReopenPatientsDialog(patients, self)
            self.reopen_dialog = dialog

            def done(result: int) -> None:
                self.reopen_dialog = None
                dialog.deleteLater()
                if self.session is not session or self.locked:
                    return  # a lock or sign-out closed the offer; it stands for the next sign-in
                if result == QDialog.DialogCode.Accepted:
                    for number in dialog.numbers:
                        self.open_patient(number)
                else:
                    self.workspace.forget_left_open(session)

            dialog.finished.connect(done)
            dialog.open()

        self.runner.submit(left_open(session), offer)

    # ----- records --------------------------------------------------------------------------
    def open_from_entry(self) -> None:
        if not self.nhs_edit.is_valid():
            self.statusBar().showMessage("That is not a valid NHS number: check the digits.")
            return
        self.open_patient(self.nhs_edit.nhs_number())

    def view_for(self, nhs_number: str) -> PatientView | None:
        for i in range(self.tabs.count()):
            view = self.tabs.widget(i)
            if isinstance(view, PatientView) and view.nhs_number == nhs_number:
                return view
        return None

    def open_patient(self, nhs_number: str) -> PatientView | None:
        if self.session is None or self.locked:
            return None
        existing = self.view_for(nhs_number)
        if existing is not None:
            self.tabs.setCurrentWidget(existing)
            return existing
        with self.idle.paused():
            view = self._add_tab(nhs_number)
        self.statusBar().showMessage("Opening record…")

        def update(record: Any) -> None:
            if not self._is_open(view):
                return  # the tab was closed meanwhile
            with self.idle.paused():
                view.set_record(record)
                self.record_actions.update()
                if record.patient is not None:
                    self.tabs.setTabText(self.tabs.indexOf(view), record.patient.name.banner())

        def failed(exc: BaseException) -> None:
            if isinstance(exc, NeedsEmergencyAccess):
                self._ask_emergency_reason(view, exc, start)
                return
            message = getattr(exc, "user_message", None)
            if message is None:
                message = str(exc) if isinstance(exc, ValueError) else "The record could not be opened."
            log.warning("Opening a record failed (%s)", type(exc).__name__)
            self.refresh_recent()  # an open that was audited counts, even if a source then failed
            self.statusBar().showMessage(message)
            if self._is_open(view):
                view.strip.labels[SourceKind.PDS].setText(message)

        def loaded(_record: Any) -> None:
            if not self._is_open(view):
                return
            self.statusBar().showMessage("Record loaded")
            self.refresh_recent()
            if self._screenshot is not None:
                self._take_screenshot()

        def start(emergency_reason: str | None) -> None:
            self.runner.submit(
                self.workspace.open_record(
                    nhs_number, self.session, self.runner.in_gui(update), emergency_reason=emergency_reason
                ),
                loaded,
                failed,
            )

        start(None)
        return view

    def _add_tab(self, nhs_number: str) -> PatientView:
        view = PatientView(nhs_number)
        view.sections.currentChanged.connect(lambda i, v=view: self._section_viewed(v, i))
        index = self.tabs.addTab(view, format_nhs_number(nhs_number))
        close = self.tabs.tabBar().tabButton(index, QTabBar.ButtonPosition.RightSide)
        if close is not None:
            close.setAccessibleName(f"Close the record of NHS number {format_nhs_number(nhs_number)}")
        self.tabs.setCurrentIndex(index)
        return view

    def _is_open(self, view: PatientView) -> bool:
        """Still a tab here. A closed tab's view may already be deleted (deleteLater) when a late update
        for it arrives from the worker: asking Qt about a deleted object raises, so check that first."""
        return shiboken6.isValid(view) and self.tabs.indexOf(view) >= 0

    def _ask_emergency_reason(
        self, view: PatientView, exc: NeedsEmergencyAccess, start: Callable[[str | None], None]
    ) -> None:
        """No current care relationship: ask why, then open flagged; a cancel closes the tab."""
        if not self._is_open(view) or self.session is None or self.locked:
            return
        self.statusBar().showMessage("No current care relationship: a reason is needed to open this record")
        dialog = EmergencyAccessDialog(exc.user_message, org_name=self.workspace.organisation,
                                       check_failed=exc.check_failed, parent=self)
        self.emergency_dialog = dialog

        def done(result: int) -> None:
            self.emergency_dialog = None
            dialog.deleteLater()
            if not self._is_open(view):
                return
            if result == QDialog.DialogCode.Accepted and not self.locked:
                self.statusBar().showMessage("Opening record (emergency access, flagged for review)…")
                start(dialog.reason())
            else:
                self._audit("access-refused", patient=view.nhs_number, outcome="refused",
                            detail={"reason": "emergency-access-declined"})
                self.close_tab(self.tabs.indexOf(view))
                self.statusBar().showMessage("Record not opened")

        dialog.finished.connect(done)
        dialog.open()

    def refresh_recent(self) -> Future[Any] | None:
        """Ask for this clinician's recent patients (off the GUI thread); a reply for a session that has
        ended, or that arrives behind the lock, is dropped, so the list never shows another's patients."""
        recent = getattr(self.workspace, "recent_patients", None)
        session = self.session
        if recent is None or session is None or self.locked:
            return None

        def show(patients: list[tuple[str, str]]) -> None:
            if self.session is session and not self.locked:
                self.recent.show_patients(patients)

        return self.runner.submit(recent(session, self.recent_limit), show)

    def _section_viewed(self, view: PatientView, index: int) -> None:
        label = view.sections.tabText(index).replace("&", "").split(" (")[0]
        self._audit("section-view", patient=view.nhs_number, detail={"section": label.split(" ", 1)[-1]})

    def _audit(self, action: str, **details: Any) -> None:
        """Audit a window event; a workspace without an audit (tests) records nothing."""
        record = getattr(self.workspace, "record_event", None)
        if record is not None and self.session is not None:
            record(action, self.session, **details)

    def close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is not None:
            self.tabs.removeTab(index)
            widget.deleteLater()
            closed = getattr(self.workspace, "record_closed", None)
            if closed is not None and self.session is not None and isinstance(widget, PatientView):
                closed(widget.nhs_number, self.session)

    # ----- session lock: idle warning, lock page, unlock or switch clinician, absolute limit ----------
    # Locking hides every trace of patient data (page, tabs, title, other windows) but keeps the tabs;
    # the same clinician unlocking gets them back, a different one starts afresh.
    def _build_lock(
        self,
        outer: QVBoxLayout,
        policy: SessionPolicy,
        clock: Clock,
        on_session_event: Callable[[str], None] | None,
    ) -> None:
        self.on_session_event: Callable[[str], None] = on_session_event or (lambda _event: None)
        self.locked = False
        self._username: str | None = None
        self._unlock_username: str | None = None
        self._title_before_lock = self.windowTitle()
        self._actions_before_lock: dict[QAction, bool] = {}
        self._hidden_windows: list[QWidget] = []
        self.lock_warning = LockWarningStrip()
        outer.insertWidget(outer.indexOf(self.stack), self.lock_warning)
        self.lock_screen = LockScreen(self.workspace.demo_users)
        self.lock_screen.unlock_requested.connect(self._unlock)
        self.lock_screen.sign_out_requested.connect(self.sign_out)
        self.stack.addWidget(self.lock_screen)
        self.idle = IdleWatcher(policy, clock, parent=self)
        self.idle.warning.connect(self.lock_warning.count_down)
        self.idle.warning_cancelled.connect(self.lock_warning.cancel)
        self.idle.lock_requested.connect(self.lock_now)
        self.idle.expired.connect(self._session_expired)
        self.lock_action = QAction("Lock now", self, shortcut=QKeySequence("Ctrl+L"), enabled=False)
        self.lock_action.triggered.connect(self.lock_now)
        self.addAction(self.lock_action)

    def _session_started(self) -> None:
        self.idle.start()
        self.lock_action.setEnabled(True)
        self.refresh_timer.start()

    def _session_stopped(self) -> None:
        """Sign-out, expiry or switch: nothing of this session may outlive it, behind the lock or not."""
        self.idle.stop()
        self.refresh_timer.stop()
        self.lock_warning.cancel()
        self._close_other_windows(keep=False)
        if self.locked:
            self.locked = False
            self.tabs.setVisible(True)
            self._restore_actions()
            self.setWindowTitle(self._title_before_lock)
        self.lock_action.setEnabled(False)

    def lock_now(self) -> None:
        """Ctrl+L or idle: hide the workspace behind the lock page; the tabs stay open behind it."""
        if self.session is None or self.locked:
            return
        self.idle.mark_locked()
        self.refresh_timer.stop()
        self.lock_warning.cancel()
        self._close_other_windows(keep=True)
        self._title_before_lock = self.windowTitle()
        self.locked = True
        self.setWindowTitle(LOCKED_TITLE)
        self._actions_before_lock = {a: a.isEnabled() for a in self.actions()}
        for action in self._actions_before_lock:
            action.setEnabled(False)
        self.tabs.setVisible(False)
        self.lock_screen.show_locked_by(spoken_name(self.session), self._username)
        self.stack.setCurrentWidget(self.lock_screen)
        self.statusBar().showMessage("Locked")
        log.info("session locked")
        self._tell("lock")

    def unlock_as(self, username: str) -> None:
        """Sandbox demos and tests: unlock as a demo clinician, as if chosen on the lock page."""
        if not self.lock_screen.choose_user(username):
            self.lock_screen.set_busy(False, f"No demo clinician called {username!r}.")
            return
        self.lock_screen.set_busy(True, "Signing in…")
        self._unlock(username)

    def _unlock(self, username: str | None) -> None:
        self._unlock_username = username
        self.runner.submit(self.workspace.sign_in(username), self._unlock_signed_in, self._unlock_failed)

    def _unlock_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "user_message", None) or "Sign-in failed. Please try again."
        log.warning("Unlock sign-in failed (%s)", type(exc).__name__)
        self.lock_screen.set_busy(False, message)

    def _unlock_signed_in(self, session: Any) -> None:
        if not self.locked or self.session is None:
            # the session ended (limit, sign-out) while the browser was open: this sign-in is not wanted
            self.runner.submit(self.workspace.sign_out(session))
            return
        if getattr(session, "user_id", None) == getattr(self.session, "user_id", None):
            self._resume_as(session)
            return
        log.info("another clinician signed in at the lock screen: switching")
        self.sign_out()
        self._tell("switch")
        self._username = self._unlock_username
        self.sign_in_page.set_busy(True, "Signing in…")
        self._signed_in(session)

    def _resume_as(self, session: Any) -> None:
        """The same clinician is back: carry on in the role they worked in, with their tabs as they were."""
        role = getattr(self.session, "selected_role", None)
        role_id = getattr(role, "person_roleid", None)
        if role_id is not None and role_id in {c[0] for c in self.workspace.role_choices(session)}:
            self.workspace.select_role(session, role_id)
        blocked = self.workspace.blocked_reason(session)
        if blocked is not None:
            self.runner.submit(self.workspace.sign_out(session))
            self.lock_screen.set_busy(False, blocked)
            return
        self.session = session  # fresh tokens; the session limit still counts from the first sign-in
        self.user_label.setText(self.workspace.who(session))
        self.locked = False
        self.idle.resume()
        self.refresh_timer.start()
        self.setWindowTitle(self._title_before_lock)
        self.tabs.setVisible(True)
        self._restore_actions()
        self.stack.setCurrentIndex(1)
        for window in self._hidden_windows:
            window.show()
        self._hidden_windows.clear()
        self.lock_screen.set_busy(False)
        self.statusBar().showMessage("Unlocked")
        log.info("session unlocked")
        self._tell("unlock")
        self.refresh_recent()  # an open that finished behind the lock was not listed then
        if self._pending_patient:
            patient, self._pending_patient = self._pending_patient, None
            self.open_patient(patient)

    def _session_expired(self) -> None:
        log.info("session ended at its limit")
        self.sign_out()
        self.sign_in_page.set_busy(False, self.idle.policy.expiry_message())
        self._tell("expired")

    def _restore_actions(self) -> None:
        for action, enabled in self._actions_before_lock.items():
            action.setEnabled(enabled)
        self._actions_before_lock = {}
        self.record_actions.update()  # a record may have arrived behind the lock

    def _close_other_windows(self, *, keep: bool) -> None:
        """Dialogs are cancelled; other windows are hidden (`keep`, to come back on unlock) or closed."""
        for _ in range(10):  # nested popups close one at a time; bounded in case one refuses
            popup = QApplication.activePopupWidget()
            if popup is None:
                break
            popup.close()
        QToolTip.hideText()
        for widget in QApplication.topLevelWidgets():
            if widget is self or not widget.isVisible():
                continue
            if isinstance(widget, QDialog):
                widget.reject()
            elif keep and widget.windowType() == Qt.WindowType.Window:
                widget.hide()
                self._hidden_windows.append(widget)
            else:
                widget.close()
        if not keep:
            for widget in self._hidden_windows:
                widget.close()
            self._hidden_windows.clear()

    def changeEvent(self, event: QEvent) -> None:
        """Whatever sets the title while locked (a record arriving, a tab change) waits for the unlock."""
        locked = getattr(self, "locked", False)  # the title is first set before the lock is built
        if event.type() == QEvent.Type.WindowTitleChange and locked and self.windowTitle() != LOCKED_TITLE:
            self._title_before_lock = self.windowTitle()
            self.setWindowTitle(LOCKED_TITLE)
        super().changeEvent(event)

    def _tell(self, event: str) -> None:
        try:
            self.on_session_event(event)
        except Exception as exc:  # the observer must never break the lock itself
            log.warning("Session event observer failed (%s)", type(exc).__name__)

    # ----- access token refresh: checked every 30 s while signed in and unlocked ---------------------
    def _build_token_refresh(self) -> None:
        self._refreshing = False
        self.refresh_timer = QTimer(self, interval=REFRESH_CHECK_MS)
        self.refresh_timer.timeout.connect(self.refresh_if_due)

    def refresh_if_due(self, now: datetime | None = None) -> None:
        """The timer's slot (tests call it with a fake `now`). A failure is said, not acted on: the
        clinician may be mid-sentence in a record, and the lock or the session limit end it anyway."""
        session = self.session
        if session is None or self.locked or self._refreshing:
            return
        if not self.workspace.needs_refresh(session, now):
            return
        self._refreshing = True

        def done(_result: Any) -> None:
            self._refreshing = False

        def failed(exc: BaseException) -> None:
            self._refreshing = False
            log.warning("Token refresh failed (%s)", type(exc).__name__)
            if self.session is session:
                self.statusBar().showMessage(REFRESH_FAILED)

        self.runner.submit(self.workspace.refresh(session), done, failed)
