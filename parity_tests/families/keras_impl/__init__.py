"""The families in idiomatic Keras 3 (stock layers, compile + fit)."""
