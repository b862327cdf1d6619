"""The built-in model declarations, one module each (discovered by triptych.registry, never listed)."""
