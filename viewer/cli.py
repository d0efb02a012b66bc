"""Command line: ``segview [IMAGE | FOLDER | VIDEO] [--mask MASK]`` opens the window.

Subcommands run headless on the core and never import Qt; only the GUI path
imports :mod:`viewer.gui`, inside the function that needs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from viewer import __version__


def _masks_command(name: str) -> Callable[[Sequence[str]], int]:
    def run(argv: Sequence[str]) -> int:
        from viewer import cli_masks  # imported on use: `segview` alone starts faster

        return getattr(cli_masks, f"{name}_main")(argv)

    return run


def _module_command(module: str, function: str) -> Callable[[Sequence[str]], int]:
    def run(argv: Sequence[str]) -> int:
        import importlib

        return getattr(importlib.import_module(f"viewer.{module}"), function)(argv)

    return run


SUBCOMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "info": _masks_command("info"),
    "convert": _masks_command("convert"),
    "formats": _masks_command("formats"),
    "compare": _module_command("cli_compare", "compare_main"),
    "segment": _module_command("cli_segment", "segment_main"),
    "models": _module_command("cli_segment", "models_main"),
    "render": _module_command("cli_render", "render_main"),
}


#: Exit codes of the last-resort handlers in :func:`main`. 141 is what a shell reports
#: for a program killed by SIGPIPE (128 + 13): ``segview info --json F | head -1`` then
#: looks exactly like ``cat F | head -1`` to ``set -o pipefail`` scripts, and the rest
#: of the output is not written (nobody reads it). 130 is 128 + SIGINT, as for Ctrl+C.
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130
EXIT_UNEXPECTED = 1
#: Set to 1 to see the traceback of an unexpected error instead of its one-line summary.
DEBUG_ENV = "SEGVIEW_DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Bad input is each command's business (exit 2, one line naming the file).
    What reaches here is a closed pipe, Ctrl+C, or a bug: each ends in one
    line on stderr, never a traceback (unless ``SEGVIEW_DEBUG=1``).
    """
    try:
        code = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # inside the try: a reader that left early breaks the pipe here
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("segview: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last resort: a bug, said in one line (C16's worker rule)
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"segview: unexpected error: {type(exc).__name__}: {exc}\n"
              f"segview: this is a bug in segview {__version__}; please report it with the "
              f"command line and the traceback ({DEBUG_ENV}=1 shows it)", file=sys.stderr)
        return EXIT_UNEXPECTED


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    if argv and argv[0] == "gui":
        argv = argv[1:]
    return _gui(argv)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit cannot fail too.

    What the Python documentation recommends for SIGPIPE ("Note on SIGPIPE"
    in the :mod:`signal` module); without it Python prints "Exception
    ignored ... BrokenPipeError" at exit.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to flush
        pass


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segview",
        description="View segmentation masks over their images. Without a path, "
                    "opens the bundled sample.",
        epilog="Subcommands: " + (", ".join(sorted(SUBCOMMANDS)) or "none yet"),
    )
    parser.add_argument("--version", action="version", version=f"segview {__version__}")
    parser.add_argument("image", nargs="?", metavar="PATH",
                        help="image, folder or video to open (default: the bundled sample); "
                             "an image's mask is found by its name when --mask is not given")
    parser.add_argument("--mask", help="mask to overlay on the image; for a video, its "
                                       "per-frame masks (a folder, a mask video or Celantur "
                                       "chunks)")
    parser.add_argument("--models-dir", action="append", default=[], metavar="DIR",
                        help="another folder of model manifests (repeatable)")
    parser.add_argument("--theme", choices=("system", "light", "dark"),
                        help="colour theme for this run (default: the saved setting)")
    parser.add_argument("--stream", metavar="SOURCE",
                        help="open a camera (0 is the first) or a stream URL instead of a file")
    parser.add_argument("--demo", action="store_true",
                        help="start in demo mode: full screen, looping, live segmentation "
                             "with the chosen model, FPS readout (Esc leaves)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="save a screenshot of the window once shown, then quit")
    return parser


def _gui(argv: Sequence[str]) -> int:
    args = _gui_parser().parse_args(argv)
    from viewer.gui.app import run

    return run(path=args.image, mask=args.mask, screenshot=args.screenshot, theme=args.theme,
               models_dirs=tuple(args.models_dir), stream=args.stream, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
