"""The ``hallkit`` command line.

Subcommands are declared as entry points of the group ``hallkit.commands`` in ``pyproject.toml``:
each names a ``register(cli: CommandLine)`` function, which adds its commands under a path of
words, e.g. ``cli.command(("device", "idcard", "read"), help=..., handler=...)``. Groups such as
``device`` are shared: two modules may both add commands below ``device``. The bus and device
commands live in ``hall_bus/cli/``; the kiosk UI (``ui.cli``), the demo and screenshot tool
(``ui.demo.cli``) and the simulators (``simulators.cli``) add theirs the same way, so this module
imports none of them.

Command modules must keep heavy imports (OpenCV, Kivy, and the in-repo modules that load such
libraries) inside their handlers so that ``hallkit --help`` stays fast; light in-repo modules are
imported at the top. Shared pieces (bus options, requests, failures) are in :mod:`hall_bus.cli.common`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points, version

COMMAND_GROUP = "hallkit.commands"

Handler = Callable[[argparse.Namespace], "int | None"]


class CommandLine:
    """A tree of argparse sub-commands that several modules can add to."""

    def __init__(self) -> None:
        self.parser = argparse.ArgumentParser(
            prog="hallkit",
            description="HallKit: queue tickets, hall devices and self-service kiosks for government service halls.",
            epilog="Run 'hallkit COMMAND --help' for the options of a command.",
        )
        self.parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
        self.parser.add_argument("--version", action="version", version=f"hallkit {version('hallkit')}")
        self._groups: dict[tuple[str, ...], argparse._SubParsersAction[argparse.ArgumentParser]] = {}
        self._parsers: dict[tuple[str, ...], argparse.ArgumentParser] = {(): self.parser}
        self._helps: dict[tuple[str, ...], str] = {}

    def describe(self, path: Sequence[str], help: str) -> None:
        """Give a group (e.g. ``("device",)``) its one-line help, whoever creates it."""
        path = tuple(path)
        self._helps[path] = help
        if path in self._parsers:
            self._parsers[path].description = help

    def _subparsers(self, path: tuple[str, ...]) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        if path not in self._groups:
            parent = self._parser(path)
            self._groups[path] = parent.add_subparsers(dest="_cmd_" + "_".join(path or ("root",)), metavar="COMMAND")
            self._groups[path].required = True
        return self._groups[path]

    def _parser(self, path: tuple[str, ...]) -> argparse.ArgumentParser:
        if path not in self._parsers:
            subs = self._subparsers(path[:-1])
            help_text = self._helps.get(path, f"{' '.join(path)} commands")
            self._parsers[path] = subs.add_parser(path[-1], help=help_text, description=help_text)
        return self._parsers[path]

    def command(
        self, path: Sequence[str], help: str, handler: Handler, description: str | None = None
    ) -> argparse.ArgumentParser:
        """Add a command at ``path`` and return its parser for the caller to add arguments."""
        path = tuple(path)
        if path in self._parsers:
            raise ValueError(f"hallkit command {' '.join(path)!r} is registered twice")
        subs = self._subparsers(path[:-1])
        parser = subs.add_parser(path[-1], help=help, description=description or help)
        parser.set_defaults(_handler=handler)
        self._parsers[path] = parser
        return parser


def command_entry_points() -> list[EntryPoint]:
    """The declared command modules (entry points of ``hallkit.commands``), by name."""
    return sorted(entry_points(group=COMMAND_GROUP), key=lambda ep: ep.name)


def build() -> CommandLine:
    cli = CommandLine()
    for ep in command_entry_points():
        try:
            register = ep.load()
        except Exception as exc:  # one broken command module must not take the whole CLI down
            print(f"hallkit: the commands of {ep.value} are unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        register(cli)
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    cli = build()
    args = cli.parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        handler: Handler = args._handler
        rc = handler(args)
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:  # a handler gave up with a message already printed
        return exc.code if isinstance(exc.code, int) else 1
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
