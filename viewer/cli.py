"""Command line: `wardview [--sandbox] [--demo-user U] [--patient N | wardview://patient/N]`,
`wardview sandbox serve`, `wardview inspect FILE... [--json]`, `wardview fetch NHS_NUMBER [--json]`,
`wardview audit verify|show [--store PATH]`,
`wardview cache info [--json] [--sandbox]`, `wardview cache purge [--patient N] [--sandbox]`,
`wardview doctor [--json] [--sandbox]`, `wardview --self-test [json]`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from viewer import __version__
from viewer.config import ConfigError, ConfigPaths, load_settings
from viewer.domain.nhs_number import is_valid, normalise
from viewer.logs import configure_logging

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardview", description="Wardview: the GP and hospital record in one view."
    )
    parser.add_argument("--version", action="version", version=f"wardview {__version__}")
    parser.add_argument("--sandbox", action="store_true",
                        help="start the built-in sandbox (synthetic patients) and connect to it")
    parser.add_argument("--seed", type=int, default=2026, help="sandbox: seed of the synthetic patients")
    parser.add_argument("--fault", action="append", default=[], metavar="SERVER=KIND[:ARG]",
                        help="sandbox: inject a fault, e.g. gpconnect=status:503 (repeatable)")
    parser.add_argument("--demo-user", metavar="USERNAME",
                        help="sandbox: sign in unattended as this demo clinician")
    parser.add_argument("--patient", metavar="NHS_NUMBER", help="open this patient after sign-in")
    parser.add_argument("--exit-when-shown", action="store_true",
                        help="quit as soon as the window is on screen (start-up checks and benchmarks)")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="save the window as a PNG once the record has loaded, then quit")
    _add_self_test(parser)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("gui", help="start the viewer (the default)")
    sandbox = sub.add_parser("sandbox", help="the built-in protocol sandbox")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="run the sandbox servers until interrupted; "
                                   "the first line of output is a JSON object describing them")
    serve.add_argument("--seed", type=int, default=2026, dest="serve_seed")
    serve.add_argument("--fault", action="append", default=[], dest="serve_fault",
                       metavar="SERVER=KIND[:ARG]")
    inspect = sub.add_parser("inspect", help="print the combined record made from captured GP Connect "
                             "and hospital FHIR R4 responses (JSON files)")
    inspect.add_argument("files", nargs="+", type=Path, metavar="FILE",
                         help="a GP Connect structured record Bundle, or FHIR R4 JSON (Bundle or resource)")
    inspect.add_argument("--json", action="store_true", dest="as_json",
                         help="print JSON in the versioned schema of docs/inspect-schema.json")
    inspect.add_argument("--hospital-ods", metavar="ODS",
                         help="ODS code of the hospital the R4 files came from")
    inspect.add_argument("--hospital-name", metavar="NAME", help="name of that hospital")
    _add_fetch(sub)
    _add_doctor(sub)
    audit = sub.add_parser("audit", help="the local audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify",
                                  help="check the hash chain; exit 0 intact, 1 broken, 2 cannot check")
    show = audit_sub.add_parser("show", help="print the newest entries")
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many entries (default 20)")
    for command in (verify, show):
        command.add_argument("--store", type=Path, metavar="PATH",
                             help="the store file (default: this user's Wardview store)")
    _add_cache_commands(sub)
    return parser


def _add_fetch(sub: Any) -> None:
    fetch = sub.add_parser(
        "fetch", help="sign in, fetch one patient's combined record, keep it in the cache and print it "
        "(an end-to-end check of this PC); exit 0 when every source answered, 1 when not, 2 bad usage")
    fetch.add_argument("nhs_number", metavar="NHS_NUMBER")
    fetch.add_argument("--json", action="store_true", dest="as_json",
                       help="print JSON in the schema of `wardview inspect --json`")
    fetch.add_argument("--role", metavar="ROLE_ID", help="the role to work in, when you hold several")
    fetch.add_argument("--reason", metavar="TEXT",
                       help="reason for emergency access when there is no current care relationship "
                       "(recorded in the audit, flagged for review)")
    # own dests: a subcommand's default would overwrite `wardview --sandbox fetch ...`
    fetch.add_argument("--sandbox", action="store_true", dest="fetch_sandbox",
                       help="start the built-in sandbox and sign in automatically as a demo clinician")
    fetch.add_argument("--demo-user", metavar="USERNAME", dest="fetch_demo_user",
                       help="sandbox: the demo clinician to sign in as (default: the first)")


def _settings_or_none() -> Any:
    try:
        return load_settings(ConfigPaths.default())
    except ConfigError as exc:
        print(f"wardview: {exc}", file=sys.stderr)
        return None


def _fetch(args: argparse.Namespace) -> int:
    from viewer.headless import FetchRequest, run_fetch

    if not is_valid(args.nhs_number):
        print("wardview fetch: that is not a valid NHS number (the check digit does not match)",
              file=sys.stderr)
        return 2
    settings = _settings_or_none()
    if settings is None:
        return 2
    request = FetchRequest(normalise(args.nhs_number), as_json=args.as_json,
                           sandbox=args.sandbox or args.fetch_sandbox, seed=args.seed,
                           username=args.fetch_demo_user or args.demo_user, role_id=args.role,
                           emergency_reason=args.reason)
    try:
        return run_fetch(settings, request, out=sys.stdout, err=sys.stderr)
    except PermissionError as exc:
        print(f"wardview: {exc}", file=sys.stderr)
        return 2


def _add_cache_commands(sub: argparse._SubParsersAction) -> None:
    cache = sub.add_parser("cache", help="the encrypted record cache "
                           "(exit 0 done, 1 store unusable, 2 bad usage)")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    info = cache_sub.add_parser("info", help="where the store is, its size, what it holds and the keyring "
                                "entry of its key (never the key)")
    info.add_argument("--json", action="store_true", dest="as_json", help="print JSON")
    purge = cache_sub.add_parser("purge", help="remove the records not opened within the retention time "
                                 "(setting cache_retention_hours), or one patient's")
    purge.add_argument("--patient", metavar="NHS_NUMBER", dest="purge_patient",
                       help="remove this patient's cached records, however recent")
    for command in (info, purge):
        # own dest: a subcommand's default would overwrite `wardview --sandbox cache ...`
        command.add_argument("--sandbox", action="store_true", dest="cache_sandbox",
                             help="the store the --sandbox runs use")


def _run_cache(args: argparse.Namespace) -> int:
    from viewer.store.cache_commands import run_info, run_purge
    from viewer.store.paths import store_path_for

    path = store_path_for(sandbox=args.sandbox or args.cache_sandbox)
    if args.cache_command == "info":
        return run_info(path, as_json=args.as_json, out=sys.stdout, err=sys.stderr)
    patient = args.purge_patient
    if patient is not None and not is_valid(patient):
        print("wardview: --patient is not a valid NHS number", file=sys.stderr)
        return 2
    settings = _settings_or_none()
    if settings is None:
        return 2
    return run_purge(path, retention_hours=settings.cache_retention_hours,
                     nhs_number=normalise(patient) if patient else None, out=sys.stdout, err=sys.stderr)


def _add_self_test(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--self-test", nargs="?", const="table", choices=("table", "json"), metavar="json",
                        help="check this installation (imports, an offscreen window, SQLCipher, keyring, "
                        "TLS trust store), print a table (or JSON) and exit 1 if any check failed")


def _self_test(args: argparse.Namespace) -> int:
    from viewer.app import offscreen_window_check
    from viewer.doctor.self_test import run_self_test

    report = run_self_test(offscreen_window_check)
    sys.stdout.write(report.to_json() if args.self_test == "json" else report.to_table())
    return report.exit_code()


def _add_doctor(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor", help="check this PC: settings and where each came from, each endpoint over TLS, the client "
        "certificate, the clock, the keyring and the store; exit 0 when no check failed, 1 otherwise")
    doctor.add_argument("--json", action="store_true", dest="as_json", help="print JSON instead of a table")
    doctor.add_argument("--sandbox", action="store_true", dest="doctor_sandbox",
                        help="run the same checks against the built-in sandbox")


def _doctor(args: argparse.Namespace) -> int:
    from viewer.config import load_settings_with_origins
    from viewer.doctor.run import run_doctor, sandbox_origins
    from viewer.store.paths import default_store_path

    try:
        settings, origins = load_settings_with_origins(ConfigPaths.default())
    except ConfigError as exc:
        report = run_doctor(exc, None, store_path=default_store_path())
    else:
        if not (args.sandbox or args.doctor_sandbox):
            report = run_doctor(settings, origins, store_path=default_store_path())
        else:
            from viewer.sandbox.runner import Sandbox

            try:
                with Sandbox(seed=args.seed) as sandbox:
                    in_sandbox = settings.for_sandbox(sandbox.info)
                    report = run_doctor(in_sandbox, sandbox_origins(settings, in_sandbox, origins),
                                        store_path=default_store_path("sandbox.db"))
            except PermissionError as exc:
                print(f"wardview: {exc}", file=sys.stderr)
                return 2
    sys.stdout.write(report.to_json() if args.as_json else report.to_table())
    return report.exit_code()


def main(argv: Sequence[str] | None = None) -> int:
    from viewer.launch_uri import rewrite_launch_args

    argv, link_problem = rewrite_launch_args(sys.argv[1:] if argv is None else argv)
    if link_problem:
        print(f"wardview: {link_problem}", file=sys.stderr)
    parser = _parser()
    args, qt_args = parser.parse_known_args(argv)
    if qt_args and args.command not in (None, "gui"):
        # only the window passes unknown arguments on (to Qt); a command must not silently ignore one
        parser.error(f"unrecognised arguments: {' '.join(qt_args)}")
    configure_logging()
    if args.self_test:
        return _self_test(args)
    if args.command == "doctor":
        return _doctor(args)
    if args.command == "sandbox":
        from viewer.sandbox.runner import serve

        return serve(args.serve_seed, args.serve_fault, sys.stdout)
    if args.command == "inspect":
        from viewer.services.inspect import run_inspect

        return run_inspect(args.files, as_json=args.as_json, out=sys.stdout, err=sys.stderr,
                           hospital_ods=args.hospital_ods, hospital_name=args.hospital_name)
    if args.command == "fetch":
        return _fetch(args)
    if args.command == "audit":
        from viewer.store.audit_commands import run_show, run_verify

        if args.audit_command == "verify":
            return run_verify(args.store, out=sys.stdout, err=sys.stderr)
        return run_show(args.store, args.last, out=sys.stdout, err=sys.stderr)
    if args.command == "cache":
        return _run_cache(args)
    if args.patient and not is_valid(args.patient):
        print("wardview: --patient is not a valid NHS number", file=sys.stderr)
        return 2
    from viewer.services.compose import check_settings

    try:
        settings = load_settings(ConfigPaths.default())
        check_settings(settings)  # before any window or thread starts
    except ConfigError as exc:
        print(f"wardview: {exc}", file=sys.stderr)
        return 2
    from viewer.app import LaunchOptions, run

    options = LaunchOptions(
        sandbox=args.sandbox,
        seed=args.seed,
        fault_specs=args.fault,
        demo_user=args.demo_user,
        patient=normalise(args.patient) if args.patient else None,
        screenshot=args.screenshot,
        exit_when_shown=args.exit_when_shown,
        startup_notice=link_problem,
        qt_args=qt_args,
    )
    try:
        return run(settings, options)
    except PermissionError as exc:
        print(f"wardview: {exc}", file=sys.stderr)
        return 2
