"""`python -m lossgrade`, and the `lossgrade` command (pyproject.toml's entry point)."""
from __future__ import annotations


def run() -> None:
    """Load the command line and run it. Loading takes a moment (click, the sandbox client):
    Ctrl-C then too ends quietly with exit code 130, as it does in every command."""
    try:
        from lossgrade.cli.main import main
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
