from kfp_gates.sdk.cli import entry

entry()
