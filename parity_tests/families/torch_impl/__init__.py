"""The families in idiomatic PyTorch (stock nn layers)."""
