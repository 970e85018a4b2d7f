"""Start the web UI: `python app.py [--host 127.0.0.1] [--port 7860] [--index DIR]`."""

from __future__ import annotations

import argparse

from qa.store import default_index_dir


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve; loopback only unless --host says otherwise."""
    parser = argparse.ArgumentParser(description="政策问答 web UI (chat with cited answers)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the LAN)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--index", default=None,
                        help=f"index folder (default $QA_INDEX_DIR or {default_index_dir()})")
    parser.add_argument("--open", action="store_true", help="open a browser tab")
    args = parser.parse_args(argv)

    from qa.ui import serve

    serve(host=args.host, port=args.port, index_dir=args.index, open_browser=args.open)


if __name__ == "__main__":
    main()
