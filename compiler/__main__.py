"""`python -m compiler` is `pricebook`; `run` is the `pricebook` command's entry point.

Ctrl-C while the command line is still being imported must end the process as one later does (`cli.main`): exit
130, no traceback. So this module imports nothing else until `run` is under way (130 is `ExitCode.INTERRUPTED`).
"""

import os
import signal
import sys


def run() -> None:
    try:
        from compiler.cli import main

        main()
    except KeyboardInterrupt:  # during the import, or while `main` was already on its way out
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stderr.write("pricebook: interrupted\n")
        sys.stderr.flush()
        os._exit(130)  # not sys.exit: see `cli.interrupts.exit_now`


if __name__ == "__main__":
    run()
