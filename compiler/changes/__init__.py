"""The change side: the catalog as a model, the API calls that build it, and the diff against the account as a
`ChangeSet` (with price impact), plus the saved plan file."""
