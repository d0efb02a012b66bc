"""Entry point of the standalone build: the same as the installed ``segview`` command."""

import multiprocessing
import sys

from viewer.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a no-op unless a worker process is ever spawned
    sys.exit(main())
