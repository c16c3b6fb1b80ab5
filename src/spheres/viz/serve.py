"""``spheres viz``: serve the classroom page on this machine with Solara, offline.

The page is served by Solara's ``solara run``, in this process, in production mode (no requests to
outside hosts), with Solara's telemetry and version check off. Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import sys
import warnings
from pathlib import Path

INSTALL_HINT = ("error: spheres viz needs the web app's packages: "
                "pip install 'spheres-abm[viz]' (in a checkout: pip install -e '.[viz]')")
# Imported by the page; missing ones mean the viz extra is not installed.
NEEDED = ("solara", "ipyvue", "ipyvuetify")


def parser() -> argparse.ArgumentParser:
    """The command-line options of ``spheres viz``."""
    p = argparse.ArgumentParser(
        prog="spheres viz",
        description="Serve the classroom page: one market with sliders, Step / Play / Reset, "
                    "a network view and live plots. Works without internet. Ctrl-C stops it.",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; "
                        "0.0.0.0 lets others on the network open it)")
    p.add_argument("--port", type=_port, default=8765,
                   help="port to listen on, 1-65535 (default 8765)")
    return p


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def missing_packages() -> list[str]:
    """The page's packages that cannot be imported here."""
    missing = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def _port_free(host: str, port: int) -> str | None:
    """None when ``host:port`` can be listened on, else the reason."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as err:
        return err.strerror or str(err)
    return None


def solara_arguments(host: str, port: int) -> list[str]:
    """Return the ``solara run`` arguments that serve the page.

    Production mode (no requests to outside hosts), no browser opened, no version check.
    """
    app = Path(__file__).with_name("app.py")
    return ["run", str(app), "--host", host, "--port", str(port), "--production", "--no-open",
            "--no-check-version", "--log-level", "warning"]


def main(argv: list[str] | None = None) -> int:
    """Serve the page until Ctrl-C, then end the process with exit code 0.

    Returns 2 when the extra is missing or the address cannot be used.
    """
    args = parser().parse_args(argv)
    if missing_packages():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    reason = _port_free(args.host, args.port)
    if reason is not None:
        print(f"error: --host {args.host} --port {args.port}: cannot listen there ({reason})",
              file=sys.stderr)
        return 2
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"spheres viz: open http://{shown}:{args.port}/ in a browser (Ctrl-C stops)",
          flush=True)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # read when solara is imported
    # Solara warns that a cookie cannot be samesite=none on plain http; expected here.
    warnings.filterwarnings("ignore", message="Cookies with samesite")
    # Deliberately lazy: Solara is the optional viz extra, checked for above.
    from solara.__main__ import cli as solara_cli

    try:
        solara_cli(args=solara_arguments(args.host, args.port), prog_name="solara",
                   standalone_mode=False)
    except KeyboardInterrupt:  # Ctrl-C
        pass
    except RuntimeError as err:
        # Solara's command line (rich-click over click) turns the KeyboardInterrupt of Ctrl-C
        # into its Abort, a RuntimeError raised while handling it; any other error is the
        # server's own.
        if not isinstance(err.__context__, KeyboardInterrupt | EOFError):
            raise
    print("spheres viz: stopped", file=sys.stderr)
    # A page left playing keeps a worker thread stepping its market; the server is gone, so end
    # here rather than wait for that thread.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
