"""Start the web UI: `python app.py [--host 127.0.0.1] [--port 7860] [--index DIR] [--auth
USER:PASSWORD] [--read-only] ...` — the same options as `qa serve` (see `qa serve --help`)."""

from __future__ import annotations

import sys

from qa.app.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
