"""``kfp-gates secret fetch|unwrap|check-age``: Vault / OpenBao secret delivery.

``fetch`` logs in, reads a secret response-wrapped and prints only the
wrapping token. ``unwrap`` consumes a wrapping token once, into 0600 files or
into the environment of a command; a token that was already used or expired is
a security finding (exit 1). ``check-age`` reports KV v2 secrets older than
the policy's ``max_secret_age``.
"""

from __future__ import annotations

import argparse
import sys

from .._common import add_output_options, add_policy_options

AUTH_METHODS = ("token", "approle", "kubernetes", "jwt", "oidc")

_EPILOG = """credentials come from files or the environment, never from flags:
  token       --token-file FILE, else VAULT_TOKEN
  approle     --role-id ID (or --role-id-file) and --secret-id-file FILE
  kubernetes  --role ROLE and the pod's service-account token (--jwt-file to use a projected one)
  jwt / oidc  --role ROLE and --jwt-file FILE
environment: VAULT_ADDR, VAULT_NAMESPACE, VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY,
  VAULT_CLIENT_TIMEOUT, VAULT_MAX_RETRIES (BAO_* too)
exit codes: 0 ok, 1 blocked (wrapping token already used/expired/swapped, or stale secrets),
  2 configuration or permission error (bad credentials, no such path), 3 Vault unreachable, sealed or timed out"""


def _add_server_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("server")
    g.add_argument("--addr", metavar="URL", help="Vault/OpenBao address (default: $VAULT_ADDR)")
    g.add_argument("--namespace", metavar="NS", help="Vault namespace (default: $VAULT_NAMESPACE)")
    g.add_argument("--ca-cert", metavar="FILE", help="CA bundle for TLS (default: $VAULT_CACERT)")
    g.add_argument("--timeout", metavar="DURATION", help="per-request timeout, e.g. 10s (default 30s)")


def _add_auth_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("authentication")
    g.add_argument("--auth", choices=AUTH_METHODS, required=True, help="auth method")
    g.add_argument("--auth-mount", metavar="PATH", help="auth mount path (default: the method's name)")
    g.add_argument("--role", help="Vault role (kubernetes, jwt)")
    g.add_argument("--role-id", help="AppRole role id (not a secret)")
    g.add_argument("--role-id-file", metavar="FILE", help="AppRole role id from a file")
    g.add_argument("--secret-id-file", metavar="FILE", help="AppRole secret id file")
    g.add_argument("--jwt-file", metavar="FILE", help="JWT file (jwt; kubernetes: projected SA token)")
    g.add_argument("--token-file", metavar="FILE", help="token file (token auth; default $VAULT_TOKEN)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secret", help="fetch wrapped secrets from Vault/OpenBao, unwrap them once, check rotation")
    psub = p.add_subparsers(dest="secret_command", metavar="ACTION", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    f = psub.add_parser(
        "fetch",
        help="read a secret response-wrapped; print only the wrapping token",
        epilog=_EPILOG,
        formatter_class=fmt,
    )
    _add_server_options(f)
    _add_auth_options(f)
    s = f.add_argument_group("secret")
    s.add_argument("--path", required=True, help="MOUNT/PATH, e.g. secret/app/db (dynamic: the API path)")
    s.add_argument("--mount", help="mount point when it has several segments")
    s.add_argument("--field", help="deliver only this field")
    s.add_argument("--kv-version", type=int, choices=(1, 2), default=2, help="KV engine version (default 2)")
    s.add_argument("--version", type=int, metavar="N", help="pin a KV v2 version (default: latest)")
    s.add_argument("--dynamic", action="store_true", help="a dynamic secret (any engine); its lease is reported")
    s.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="request parameter for a dynamic secret (makes it a POST); repeatable",
    )
    s.add_argument("--wrap-ttl", metavar="DURATION", help="wrapping-token TTL (default: the policy's wrap_ttl)")
    s.add_argument(
        "-o", "--output", "--token-out", dest="token_out", metavar="FILE",
        help="write the wrapping token to FILE: created 0600, never over an existing file or link (default: stdout)",
    )
    s.add_argument("--run-id", help="record a dynamic secret's lease for this pipeline run (for revoke)")
    s.add_argument(
        "--lease-registry",
        default="secret/kfp-gates/leases",
        metavar="MOUNT/PREFIX",
        help="KV v2 location of lease records (default: secret/kfp-gates/leases)",
    )
    add_policy_options(f)
    f.set_defaults(func=_fetch)

    u = psub.add_parser(
        "unwrap",
        help="unwrap a wrapping token once into files or a command's environment",
        epilog=_EPILOG,
        formatter_class=fmt,
        usage="kfp-gates secret unwrap --token-file FILE (--to-dir DIR | -- CMD [ARG ...])",
    )
    _add_server_options(u)
    u.add_argument("--token-file", required=True, metavar="FILE", help="file holding the wrapping token ('-': stdin)")
    u.add_argument("--to-dir", metavar="DIR", help="write one 0600 file per field into DIR (created 0700)")
    u.add_argument(
        "--expect-path", metavar="PATH", help="refuse a token not created for this path (e.g. secret/data/app/db)"
    )
    u.add_argument("--env-prefix", default="", help="prefix for environment variable names (with -- CMD)")
    u.add_argument("cmd", nargs="*", metavar="CMD", help="after --: the command to run with the secret in its env")
    add_output_options(u)
    u.set_defaults(func=_unwrap)

    st = psub.add_parser("status", help="is the server active, standby, sealed? (exit 3 unless it can serve)")
    _add_server_options(st)
    st.set_defaults(func=_status)

    c = psub.add_parser(
        "check-age", help="report KV v2 secrets older than max_secret_age", epilog=_EPILOG, formatter_class=fmt
    )
    _add_server_options(c)
    _add_auth_options(c)
    c.add_argument("--mount", default="secret", help="KV v2 mount (default: secret)")
    c.add_argument("--prefix", action="append", default=[], help="path prefix to check; repeatable (default: all)")
    c.add_argument("--max-age", metavar="DURATION", help="override the policy's max_secret_age, e.g. 90d")
    add_policy_options(c)
    add_output_options(c)
    c.set_defaults(func=_check_age)


# ----- helpers --------------------------------------------------------------------------------------------


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.policy import parse_duration
    from kfp_gates.components.secrets.config import VaultConfig

    timeout: float | None = None
    if args.timeout:
        try:
            timeout = parse_duration(args.timeout).total_seconds()
        except ValueError as exc:
            raise ConfigError(str(exc), where="--timeout") from None
    return VaultConfig.from_env(args.addr, namespace=args.namespace, ca_cert=args.ca_cert, timeout=timeout)


def _login(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from kfp_gates.components.secrets import auth_from_options, login

    method = auth_from_options(
        args.auth,
        role=args.role,
        role_id=args.role_id,
        role_id_file=args.role_id_file,
        secret_id_file=args.secret_id_file,
        jwt_file=args.jwt_file,
        token_file=args.token_file,
        mount=args.auth_mount,
    )
    return login(_config(args), method)


def _duration(value: str, where: str):  # type: ignore[no-untyped-def]
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.policy import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(str(exc), where=where) from None


def _params(items: list[str]) -> dict[str, str]:
    from kfp_gates.components.common.errors import ConfigError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected KEY=VALUE, got {item!r}", where="--param")
        out[key] = value
    return out


# ----- fetch ----------------------------------------------------------------------------------------------


def _fetch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.secrets._files import write_private
    from kfp_gates.components.secrets.reading import SecretRef
    from kfp_gates.components.secrets.steps import wrap_for_step

    from .._common import load_policy

    section = load_policy(args).gates.secrets
    ttl = _duration(args.wrap_ttl, "--wrap-ttl") if args.wrap_ttl else section.wrap_ttl
    params = _params(args.param)
    if params and not args.dynamic:
        raise ConfigError("--param applies to dynamic secrets only", where="--param", hint="add --dynamic")
    if args.dynamic and (args.version or args.kv_version == 1):
        raise ConfigError("--version/--kv-version apply to KV secrets, not --dynamic", where="--dynamic")
    kind = "dynamic" if args.dynamic else f"kv{args.kv_version}"
    ref = SecretRef.parse(args.path, mount=args.mount, kind=kind, version=args.version, field=args.field, params=params)
    client, _ = _login(args)
    wrapped = wrap_for_step(
        client,
        ref,
        ttl,
        max_ttl=section.max_wrap_ttl,
        owns_token=args.auth != "token",
        run_id=args.run_id or "",
        lease_registry=args.lease_registry,
    )
    if args.token_out:
        write_private(Path(args.token_out), wrapped.token + "\n")
        sys.stderr.write(
            f"wrapping token for {ref.display} written to {args.token_out} (single use, expires in {wrapped.ttl}s)\n"
        )
    else:
        sys.stdout.write(wrapped.token + "\n")
    if wrapped.lease:
        sys.stderr.write(
            f"lease {wrapped.lease.lease_id} ({wrapped.lease.duration}s)"
            + (f" recorded for run {args.run_id}\n" if args.run_id else "\n")
        )
    return 0


# ----- unwrap ---------------------------------------------------------------------------------------------


def _read_token(path: str) -> str:
    from kfp_gates.components.secrets._files import check_credential, read_credential

    if path == "-":
        from kfp_gates.components.common import redact

        token = sys.stdin.readline().strip()
        redact.register_secret(token)
        return check_credential(token, "wrapping token on stdin", "--token-file -")
    return read_credential(path, "wrapping token file")


def _unwrap(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.secrets.delivery import run_with_env, unwrap_and_deliver

    from .._common import emit, write_text

    if bool(args.to_dir) == bool(args.cmd):
        raise ConfigError(
            "give exactly one of --to-dir DIR or -- CMD",
            where="unwrap",
            hint="kfp-gates secret unwrap --token-file t --to-dir /secrets",
        )
    config = _config(args)
    token = _read_token(args.token_file)
    delivery = unwrap_and_deliver(config, token, to_dir=args.to_dir, expected_path=args.expect_path)
    if delivery.secret is None:
        return emit([delivery.result], args)
    if args.to_dir:
        code = emit([delivery.result], args)
        sys.stderr.write(f"{len(delivery.files)} field(s) written to {args.to_dir} (mode 0600)\n")
        return code
    if args.output:
        from kfp_gates.components.common.formats import render

        write_text(args.output, render([delivery.result], args.format))
    sys.stdout.flush()
    sys.stderr.flush()
    return run_with_env(delivery.secret, args.cmd, prefix=args.env_prefix, replace_process=True)


# ----- check-age ------------------------------------------------------------------------------------------


def _check_age(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import format_duration
    from kfp_gates.components.secrets.age import check_age

    from .._common import emit, load_policy

    policy = load_policy(args)
    section = policy.gates.secrets
    max_age = _duration(args.max_age, "--max-age") if args.max_age else section.max_secret_age
    if max_age is None:
        raise ConfigError(
            "no maximum secret age",
            where="--max-age",
            hint="pass --max-age 90d or set gates.secrets.max_secret_age in the policy",
        )
    client, _ = _login(args)
    settings = GateSettings.from_effective(policy.gate("secrets"), max_secret_age=format_duration(max_age))
    result = check_age(
        client,
        mount=args.mount,
        prefixes=tuple(args.prefix) or ("",),
        max_age=max_age,
        settings=settings,
        severity=section.stale_severity,
    )
    return emit([result], args)


# ----- status ---------------------------------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import InfrastructureError
    from kfp_gates.components.secrets import connect, server_status

    config = _config(args)
    status = server_status(connect(config), timeout=config.timeout)
    sys.stdout.write(f"{config.addr}: {status.describe()} (version {status.version or 'unknown'})\n")
    if status.sealed or not status.initialized:
        raise InfrastructureError(f"Vault at {config.addr} is {status.describe()}", hint="unseal or initialise it")
    return 0
