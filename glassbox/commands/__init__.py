"""Subcommands of the `glassbox` command line, a module each with ``register(subparsers)``."""
