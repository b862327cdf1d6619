"""The built-in study declarations, one module each (discovered by triptych.registry, never listed)."""
