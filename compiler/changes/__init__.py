"""The change side: the catalog as a model, the API calls that build it, the diff against the account, its
price impact, the `ChangeSet` that carries them (with the problems that block an apply), and the saved plan file."""
