"""`python -m aiagents ...`: the same as the `aiagents` command."""

from aiagents.cli import main

if __name__ == "__main__":
    main()
