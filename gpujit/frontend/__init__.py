"""Frontends: what turns user code into graphs (the tracer; the script compiler next)."""
