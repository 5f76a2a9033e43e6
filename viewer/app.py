"""The composition root: builds every service once and passes it in. No globals.

It is the only module besides `viewer.ui` that may import PySide6, and with `viewer.cli` the only one
that may wire the sandbox in.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from viewer.config import Settings
from viewer.doctor.report import Check, Status
from viewer.logs import redact

log = logging.getLogger(__name__)


@dataclass
class LaunchOptions:
    """What the command line asked for, beyond settings."""

    sandbox: bool = False
    seed: int = 2026
    fault_specs: list[str] = field(default_factory=list)
    demo_user: str | None = None  # sandbox: sign in unattended as this demo clinician
    patient: str | None = None  # open this patient after sign-in
    screenshot: Path | None = None  # save the window as PNG once the record has loaded, then quit
    exit_when_shown: bool = False  # quit once the window is on screen (start-up benchmark, smoke check)
    startup_notice: str | None = None  # said in the window once shown (e.g. a malformed wardview:// link)
    qt_args: Sequence[str] = ()


def system_browser(_username: str | None) -> Callable[[str], None]:
    def open_url(url: str) -> None:
        webbrowser.open(url)

    return open_url


def sandbox_browser(ca_cert: str) -> Callable[[str | None], Callable[[str], None]]:
    """In sandbox mode a chosen demo clinician's sign-in is answered by the sandbox's stand-in browser."""
    from viewer.sandbox.robot import answer_sign_in

    def browser_for(username: str | None) -> Callable[[str], None]:
        if username is None:
            return system_browser(None)
        return lambda url: answer_sign_in(url, username, None, ca_cert)

    return browser_for


def start_sandbox(options: LaunchOptions) -> tuple[Any, dict[str, Any]]:
    from viewer.sandbox.faults import FaultPlan
    from viewer.sandbox.runner import Sandbox

    sandbox = Sandbox(seed=options.seed, faults=FaultPlan.parse(options.fault_specs))
    return sandbox, sandbox.start()


def demo_lists(info: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    users = [
        (u["username"], f"{u['name']} - " + ", ".join(r["role_name"] for r in u["roles"]))
        for u in info["users"]
    ]
    patients = [(p["nhs_number"], f"{p['scenario']}: {p['summary']}") for p in info["patients"]]
    return users, patients


def install_crash_hook(report: Callable[[str], None]) -> None:
    """Uncaught exceptions are logged (redacted) and reported on the GUI thread; the app keeps running."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = redact("".join(traceback.format_exception(kind, exc, tb)))
        log.error("Unexpected error: %s", text)
        report(f"An unexpected error occurred ({kind.__name__}). It has been logged.")

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value or Exception(), args.exc_traceback)


PURGE_INTERVAL_MS = 60 * 60 * 1000


def start_retention(local: Any, settings: Settings, runner: Any, parent: Any) -> Any:
    """Purge records not opened within the retention time now and every hour, off the GUI thread."""
    import asyncio

    from PySide6.QtCore import QTimer

    def purge() -> None:
        runner.submit(asyncio.to_thread(local.purge_expired, settings.cache_retention_hours))

    timer = QTimer(parent, interval=PURGE_INTERVAL_MS)
    timer.timeout.connect(purge)
    timer.start()
    purge()
    return timer


def end_session_at_exit(window: Any, workspace: Any, runner: Any) -> None:
    """Closing the window signs the clinician out (audited, tokens revoked, the session journal closed),
    so the next start offers nothing to reopen; only a crash or a kill leaves patients to offer."""
    session = window.session
    if session is None:
        return
    window.session = None
    try:
        runner.run_blocking(workspace.sign_out(session), timeout=5)
    except Exception as exc:  # shutting down: the audit entry was written first; revocation may fail
        log.warning("Sign-out at exit did not complete (%s)", type(exc).__name__)


def offscreen_window_check() -> Check:
    """`wardview --self-test`'s Qt check: the platform plugin loads, and a styled window paints offscreen
    (a frozen build missing a Qt plugin or the style sheet fails here, not on a ward)."""
    from importlib import resources

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(["wardview", "-platform", "offscreen"])
    window = QMainWindow()
    try:
        window.setStyleSheet(resources.files("viewer.ui").joinpath("style.qss").read_text(encoding="utf-8"))
        window.setCentralWidget(QLabel("Wardview self-test"))
        window.resize(320, 120)
        window.show()
        app.processEvents()
        image = window.grab().toImage()
    finally:
        window.close()
        window.deleteLater()
    data = {"qt": qVersion(), "pyside": pyside_version, "platform": app.platformName()}
    if image.isNull() or image.width() < 1:
        return Check("offscreen window", Status.FAIL, f"Qt {qVersion()} could not paint a window", data)
    return Check("offscreen window", Status.OK, f"Qt {qVersion()} (PySide6 {pyside_version}) painted a "
                 f"{image.width()}x{image.height()} window on '{app.platformName()}'", data)


def run(settings: Settings, options: LaunchOptions) -> int:
    """Start the GUI. Returns the process exit code."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from viewer.auth.session_policy import SessionPolicy
    from viewer.record.collector import keep_start_up_objects_out_of_collections
    from viewer.services.compose import build_workspace, http_client_for, open_local_store
    from viewer.store.paths import store_path_for
    from viewer.ui.main_window import MainWindow
    from viewer.ui.runner import AsyncRunner
    from viewer.ui.single_instance import SingleInstance, hand_over, server_name
    from viewer.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(["wardview", *options.qt_args])
    app.setApplicationName("Wardview")
    instance_name = server_name(options.sandbox)
    scripted = options.screenshot is not None or options.exit_when_shown
    if not scripted and hand_over(instance_name, options.patient):
        log.info("Handed over to the viewer already running in this session")
        return 0
    sandbox = None
    demo_users: list[tuple[str, str]] = []
    demo_patients: list[tuple[str, str]] = []
    browser_for: Callable[[str | None], Callable[[str], None]] = system_browser
    if options.sandbox:
        sandbox, info = start_sandbox(options)
        settings = settings.for_sandbox(info)
        demo_users, demo_patients = demo_lists(info)
        browser_for = sandbox_browser(info["ca_cert"])

    apply_theme(app, settings)
    runner = AsyncRunner()

    async def make_client() -> Any:
        return http_client_for(settings)

    http = runner.run_blocking(make_client())
    holder: dict[str, Any] = {}  # the workspace, once built, for the audit sender's token

    def current_token() -> str | None:
        session = getattr(holder.get("workspace"), "current_session", None)
        return session.tokens.access_token if session is not None else None

    # Synthetic data never shares a store with real records (store_path_for).
    local = open_local_store(settings, http, path=store_path_for(sandbox=options.sandbox),
                             token=current_token)
    try:
        workspace = build_workspace(
            settings, http, browser_for, sandbox=options.sandbox,
            demo_users=demo_users, demo_patients=demo_patients, local=local,
        )
    except Exception:
        runner.stop(http.aclose)
        local.close()
        if sandbox is not None:
            sandbox.stop()
        raise
    sender = local.sender
    holder["workspace"] = workspace
    sending = runner.submit(sender.run()) if sender is not None else None
    window = MainWindow(workspace, runner, session_policy=SessionPolicy.from_settings(settings),
                        recent_limit=settings.recent_patients)

    def audit_session_event(event: str) -> None:
        # "switch" and "expired" reach the audit as the sign-out and sign-in they cause
        if event in ("lock", "unlock"):
            workspace.record_event(event, window.session)

    window.on_session_event = audit_session_event
    single = SingleInstance(instance_name, app)
    if not scripted and single.listen():  # a scripted run never takes the name
        single.patient_requested.connect(window.handover)
    install_crash_hook(runner.in_gui(lambda text: QMessageBox.warning(window, "Wardview", text)))
    store_message = "\n\n".join(m for m in (local.problem, local.notice, options.startup_notice) if m)
    if store_message:
        window.statusBar().showMessage(store_message)
        # non-blocking: an unattended demo or a scripted check must not stop at this box
        notice = QMessageBox(QMessageBox.Icon.Warning, "Wardview", store_message, parent=window)
        QTimer.singleShot(0, notice.open)
    purge_timer = start_retention(local, settings, runner, app)
    window.resize(1366, 768)
    window.show()
    if options.demo_user:
        QTimer.singleShot(0, lambda: window.sign_in_as(options.demo_user))
    if options.patient:
        window.open_after_sign_in(options.patient)
    if options.screenshot:
        window.screenshot_when_loaded(options.screenshot, quit_after=True)
    if options.exit_when_shown:
        def shown() -> None:
            log.info("Window shown")
            print("wardview: window shown", flush=True)
            app.quit()

        QTimer.singleShot(0, shown)
    # once the window has made its Qt classes (lazy_classes): they live as long as the process too
    window.lazy_classes.finished.connect(keep_start_up_objects_out_of_collections)
    try:
        return app.exec()
    finally:
        purge_timer.stop()
        single.close()
        end_session_at_exit(window, workspace, runner)
        if sending is not None:
            runner.loop.call_soon_threadsafe(sending.cancel)
        runner.stop(http.aclose)
        local.close()
        if sandbox is not None:
            sandbox.stop()
