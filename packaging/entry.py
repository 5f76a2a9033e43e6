"""The frozen executables' entry point (`wardview` windowed, `wardview-cli` console): the same command
line as `python -m viewer`.

A windowed Windows executable has no console, so Python leaves sys.stdout and sys.stderr as None; they
point at the null device instead, so `print` and logging never raise in the GUI build. Scripts use
`wardview-cli`, which has a console.
"""

import os
import sys

for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process

from viewer.cli import main  # noqa: E402 - after the streams exist

raise SystemExit(main())
