"""Credentials of the local cluster: a CA, the apiserver's serving cert, the service-account key, tokens."""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import yaml

# system:masters for people; the controller-manager and scheduler as the users RBAC's defaults expect.
USERS = {"admin": "system:masters", "system:kube-controller-manager": "", "system:kube-scheduler": ""}
SANS = "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"


def _openssl(*args: str) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {proc.stderr.strip()[-500:]}")


def make_pki(pki: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1 signed by it, and the service-account key pair."""
    pki.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=dockyard-local-ca",
             "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
             "-keyout", str(pki / "apiserver.key"), "-out", str(pki / "apiserver.csr"))
    (pki / "san.ext").write_text(f"subjectAltName={SANS}\n")
    _openssl("x509", "-req", "-in", str(pki / "apiserver.csr"), "-CA", str(pki / "ca.crt"),
             "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "3650", "-extfile", str(pki / "san.ext"),
             "-out", str(pki / "apiserver.crt"))
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def make_tokens(pki: Path) -> dict[str, str]:
    """A random bearer token per user, in the apiserver's --token-auth-file format (mode 600)."""
    tokens = {user: secrets.token_hex(24) for user in USERS}
    lines = [f'{tokens[u]},{u},{u},"{g}"' if g else f"{tokens[u]},{u},{u}" for u, g in USERS.items()]
    path = pki / "tokens.csv"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return tokens


def write_kubeconfig(path: Path, server: str, ca: Path, user: str, token: str, namespace: str = "default") -> Path:
    """A kubeconfig trusting the local CA and authenticating with a token (mode 600)."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "dockyard-local",
        "clusters": [{"name": "dockyard-local", "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode()}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "dockyard-local", "context": {"cluster": "dockyard-local", "user": user,
                                                             "namespace": namespace}}],
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
