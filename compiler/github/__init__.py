"""GitHub, for the steps of pricebook's GitHub Action (`pricebook ci`): what the runner gives a step and takes
back (`runner`), GitHub's REST API (`rest`), and the comments and issues a workflow keeps up to date by a hidden
marker (`sticky`). Nothing here knows Stripe or the catalog; the command line puts them together.
"""
