"""Run by tests/e2e/test_package.py inside a fresh virtualenv holding only what the Lambda Python runtime has
(boto3, botocore and their own dependencies), with the packaged function and layer first on the path, as Lambda
puts them: import every module of chalicelib, then build every adapter and its client as production wires them.

    python -E -s runtime_probe.py <function dir> <layer site-packages>

Prints one line per check; exits non-zero on the first module or client that cannot be made.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys


def main(code_dir: str, layer_site: str) -> None:
    sys.path[:0] = [code_dir, layer_site]
    import chalicelib

    assert chalicelib.__file__ and chalicelib.__file__.startswith(code_dir), chalicelib.__file__
    names = [m.name for m in pkgutil.walk_packages(chalicelib.__path__, "chalicelib.")]
    for name in names:
        importlib.import_module(name)
    print(f"imported {len(names)} modules")
    import app  # noqa: F401
    from chalicelib import bootstrap
    from chalicelib.services.ports import PortalError

    d = bootstrap.deps()
    made = [type(d.publisher).__name__, type(d.timers).__name__, type(d.notifier).__name__]
    d.publisher.client()  # type: ignore[attr-defined]
    d.timers.client()  # type: ignore[attr-defined]
    assert d.webhooks.queue is not None
    d.webhooks.queue.client()  # type: ignore[attr-defined]
    assert d.notifier._ses and d.notifier._sns  # type: ignore[attr-defined]  (cached properties)
    d.verifier()
    for model in _models():
        assert model._get_connection().connection.client  # PynamoDB's botocore client
    made.append(f"{len(_models())} table clients")
    # The HTTP clients really send (to a closed port): a missing library shows here, not in production.
    try:
        d.portal.send("DongBoHoSoMC", {"probe": True}, "probe-1")
    except PortalError as exc:
        made.append(f"portal: {str(exc)[:60]}")
    result = d.webhooks.sender.post("http://127.0.0.1:9/hook", {"content-type": "application/json"}, b"{}")
    assert result.status is None and result.error, result
    made.append(f"webhook sender: {result.error[:40]}")
    from chalicelib.adapters import secrets  # Powertools Parameters' SSM client, to a closed port

    try:
        secrets.resolve("ssm:/motcua-prod/cursor-secret")
    except secrets.SecretUnavailable as exc:
        made.append(f"ssm: {exc}"[:80])
    for line in made:
        print(line)
    print("ok")


def _models() -> list[type]:
    from pynamodb.models import Model

    from chalicelib.adapters.dynamodb import models

    return [m for m in vars(models).values() if isinstance(m, type) and issubclass(m, Model) and m is not Model
            and getattr(getattr(m, "Meta", None), "table_name", None)]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
