"""``python -m domwatch``."""

from domwatch.cli import main

main()
