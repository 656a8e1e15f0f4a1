"""`python -m lossgrade`, and the `lossgrade` command (pyproject.toml's entry point)."""
from __future__ import annotations


def run() -> None:
    """Load the command line and run it. Loading takes a moment (click, the sandbox client):
    Ctrl-C then too ends quietly with exit code 130, as it does in every command (see
    core/interrupts.py)."""
    from lossgrade.core import interrupts

    try:
        try:
            from lossgrade.cli.main import main
        except BaseException as error:
            if interrupts.caused_by_ctrl_c(error):
                raise SystemExit(130) from None
            raise
        main()
    finally:
        interrupts.forget_escaped_exec()


if __name__ == "__main__":
    run()
