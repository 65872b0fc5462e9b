"""`python -m compiler` is `pricebook`."""

from compiler.cli import main

main()
