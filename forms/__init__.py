"""Forms, one module per area; validators.py holds the shared field rules."""
