"""nn layers, one module per family."""
