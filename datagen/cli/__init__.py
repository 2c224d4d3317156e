"""`datagen COMMAND ...`: the command layer, above every library module (none imports it back).
The command list is literal (TRL style); each command lives in a module of this package and is
imported when used. Any bad input ends with one line on stderr and exit code 2; set
DATAGEN_DEBUG=1 for tracebacks.

    datagen generate                      # the main job on the embedded teacher
    datagen generate --config my.yaml --teacher openai --base-url http://127.0.0.1:8080/v1
"""
from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading

from datagen.errors import DatagenError
from datagen.extras import MissingExtra, extra_of
from datagen.outfile import is_disk_full
from datagen.redact import scrub_logs, scrub_text

# name -> "module:function"; a command takes argv (list of str) and returns an exit code.
COMMANDS = {
    "generate": "datagen.cli.generate:cmd_generate",
    "run": "datagen.cli.generate:cmd_run",
    "methods": "datagen.cli.generate:cmd_methods",
    "filter": "datagen.cli.filter:cmd_filter",
    "filters": "datagen.cli.filter:cmd_filters",
    "import": "datagen.cli.data:cmd_import",
    "select": "datagen.cli.data:cmd_select",
    "versions": "datagen.cli.versions:cmd_versions",
    "show": "datagen.cli.versions:cmd_show",
    "export": "datagen.cli.versions:cmd_export",
    "verify": "datagen.cli.versions:cmd_verify",
    "diff": "datagen.cli.versions:cmd_diff",
    "report": "datagen.cli.versions:cmd_report",
    "cache-load": "datagen.cli.cache:cmd_cache_load",
    "train": "datagen.cli.train:cmd_train",
    "sample": "datagen.cli.train:cmd_sample",
    "eval": "datagen.cli.eval:cmd_eval",
    "compare": "datagen.cli.eval:cmd_compare",
    "review": "datagen.cli.review:cmd_review",
}


def command(name: str):
    if callable(COMMANDS[name]):
        return COMMANDS[name]
    module, attr = COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def load_run_config(argv: list[str]):
    """RunConfig from flags (and --config / the method's preset): see datagen.cli.generate."""
    from datagen.cli.generate import load_run_config as load

    return load(argv)


def _usage() -> None:
    print("usage: datagen COMMAND [options]   (datagen COMMAND --help for its options)\n\ncommands:")
    for name in COMMANDS:
        try:
            doc = (command(name).__doc__ or "").strip()
        except ImportError:  # a command whose optional extra is not installed is still listed
            doc = "(not available: its optional dependencies are not installed)"
        print(f"  {name:10s} {doc.splitlines()[0] if doc else ''}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        _usage()
        return 0
    if argv[0] not in COMMANDS:
        print(f"datagen: error: unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    # Logs go to stdout with the summary: stderr is kept for errors (one line) and the live progress.
    level = os.environ.get("DATAGEN_LOG", "INFO").upper()
    if level not in LOG_LEVELS:
        print(f"datagen: error: DATAGEN_LOG={os.environ['DATAGEN_LOG']!r} is no log level; use one of "
              f"{', '.join(LOG_LEVELS)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, format="datagen: %(message)s", stream=sys.stdout)
    scrub_logs()  # no credentials of a URL in any log line
    previous = on_sigterm()
    try:
        return command(argv[0])(argv[1:])
    except DatagenError as exc:
        print(f"datagen: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except Terminated:
        print("datagen: terminated (SIGTERM): nothing half-written is left; answers received are in the "
              "response cache, so the same command continues from there", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("datagen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `datagen filters | head`: the reader has gone, which is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        if not is_disk_full(exc):
            return _internal(exc)
        print(f"datagen: error: disk full ({_one_line(exc.filename or str(exc))}): free some space and run the "
              "same command again; what is done is kept (versions are written whole or not at all)", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the boundary: no traceback unless asked
        if isinstance(exc, ModuleNotFoundError) and extra_of(exc.name) and not os.environ.get("DATAGEN_DEBUG"):
            # an optional library a path imports without `require`: the same one line
            print(f"datagen: error: {MissingExtra('datagen ' + argv[0], extra_of(exc.name))}", file=sys.stderr)
            return 2
        return _internal(exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwinds like Ctrl-C (every writer's cleanup runs), then one line and exit 143."""


def on_sigterm():
    """Turn SIGTERM into Terminated while a command runs (main thread only); the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def raise_terminated(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, raise_terminated)


def _internal(exc: BaseException) -> int:
    """A bug, not bad input: exit 1 with the exception's name (DATAGEN_DEBUG=1 raises it)."""
    if os.environ.get("DATAGEN_DEBUG"):
        raise exc
    print(f"datagen: error: {type(exc).__name__}: {_one_line(str(exc))} (DATAGEN_DEBUG=1 shows the traceback)",
          file=sys.stderr)
    return 1


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _one_line(text: str) -> str:
    return scrub_text(" ".join(text.split()))[:800]


if __name__ == "__main__":
    sys.exit(main())
