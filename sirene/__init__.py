"""INSEE's SIRENE directory, kept in the portal's own database.

``reader`` opens the stock files (csv or zip, recognised by their header),
``load`` loads them and switches to the new data in one step, ``lookup``
answers what the portal asks (a SIRET, a SIREN), ``schema`` names INSEE's
columns and codes, ``cli`` holds ``flask --app app sirene …``.
"""
