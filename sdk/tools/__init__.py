"""Maintenance scripts shipped with kfp-gates (run with ``python -m kfp_gates.sdk.tools.<name>``)."""
