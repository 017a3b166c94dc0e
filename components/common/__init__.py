"""Types and helpers shared by every gate: result, finding, severity, evidence, policy, errors.

This package imports no KFP and no heavy library, so the CLI stays fast and
engines stay testable on their own. Import from the modules themselves
(``kfp_gates.components.common.result`` ...); this ``__init__`` stays empty of
imports so that loading one small module never loads them all.
"""
