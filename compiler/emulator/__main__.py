"""`python -m compiler.emulator`: the same as `pricebook emulator`."""

from compiler.cli.emulator import command

if __name__ == "__main__":
    command(prog_name="pricebook emulator")
