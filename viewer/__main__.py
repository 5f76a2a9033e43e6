"""`python -m viewer` is the same as the `wardview` command."""

from viewer.cli import main

raise SystemExit(main())
