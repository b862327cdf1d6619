"""The families in NumPy from scratch (the scratch framework's layers)."""
