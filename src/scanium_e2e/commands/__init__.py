"""Subcommands of the `scanium-e2e` CLI: each module has `register(subparsers)` and `run(args)`."""
