"""`make deploy-quick STAGE=dev`: route 1 (`chalice deploy`, docs/deploy.md) without the printing libraries.

`chalice deploy` uploads the dependency layer directly to Lambda, which takes 50 MB zipped at most; with the Typst
compiler the layer is about 59 MB (docs/forms.md), and Chalice cannot upload through S3. This deploys a copy of the
project whose requirements leave the printing libraries out (services/printing.py PRINTING_PACKAGES): everything
else is the same code, and the printed forms answer 503 there (their JSON is unchanged). Chalice's record of what
it deployed (`.chalice/deployed/`) is copied back, so the next deploy (or `chalice delete`) finds it. Route 2
(`chalice package`) ships everything.

Chalice marks the integrators' routes `api_key_required` but creates no usage plan, and API Gateway refuses a key
that is in no plan of the stage: without one, those routes would refuse every call. So after the deploy this
creates (or brings up to date) the integrators' usage plan on the deployed stage, with route 2's name, throttling
and quota, and its first key in it (`ensure_integrator_plan`); it prints the key's id, and its value only when asked.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROJECT = ("app.py", "chalicelib", "infra", ".chalice")


def without_printing(requirements: str, packages: tuple[str, ...]) -> str:
    """The requirements text with the lines naming `packages` (any extras or pin) left out."""
    names = {p.lower() for p in packages}
    kept = []
    for line in requirements.splitlines():
        name = re.split(r"[\[=<>~!; ]", line.strip(), maxsplit=1)[0].lower()
        if name not in names:
            kept.append(line)
    return "\n".join(kept) + "\n"


# Route 2's defaults (scripts/observability_template.py: IntegratorRateLimit, ...BurstLimit, ...DailyQuota,
# FirstIntegratorName), so both routes hold an integrator to the same limits.
RATE, BURST, QUOTA, FIRST_INTEGRATOR = 10.0, 20, 100000, "dvcqg"


@dataclass(frozen=True)
class Limits:
    rate: float  # requests per second of one key
    burst: int
    daily_quota: int


@dataclass(frozen=True)
class Plan:
    plan_id: str
    key_id: str
    created: tuple[str, ...]  # what this run created (empty: everything was there already)


def deployed_api(stage: str, root: Path = ROOT) -> tuple[str, str]:
    """(REST API id, region) of the stage's API, from Chalice's record of what it deployed."""
    record = json.loads((root / ".chalice" / "deployed" / f"{stage}.json").read_text(encoding="utf-8"))
    for resource in record["resources"]:
        if resource.get("resource_type") == "rest_api":
            # https://<id>.execute-api.<region>.amazonaws.com/<stage>/
            region = resource["rest_api_url"].split(".execute-api.", 1)[1].split(".", 1)[0]
            return resource["rest_api_id"], region
    raise LookupError(f"no REST API in .chalice/deployed/{stage}.json")


def _all(client: Any, operation: str, **params: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**params) for item in page.get("items", [])]


def ensure_integrator_plan(client: Any, api_id: str, api_stage: str, prefix: str, limits: Limits,
                           integrator: str) -> Plan:
    """The usage plan `<prefix>-integrators` on `api_id`'s stage with `limits`, and the key `<prefix>-<integrator>`
    in it: found by name and brought up to date, or created; safe to run after every deploy. A key found disabled
    stays disabled (it was revoked on purpose)."""
    created: list[str] = []
    plan_name, key_name = f"{prefix}-integrators", f"{prefix}-{integrator}"
    throttle = {"rateLimit": limits.rate, "burstLimit": limits.burst}
    quota = {"limit": limits.daily_quota, "period": "DAY"}
    plans = [p for p in _all(client, "get_usage_plans") if p["name"] == plan_name]
    if plans:
        plan = plans[0]
        patches = [{"op": "replace", "path": "/throttle/rateLimit", "value": f"{limits.rate:g}"},
                   {"op": "replace", "path": "/throttle/burstLimit", "value": str(limits.burst)},
                   {"op": "replace", "path": "/quota/limit", "value": str(limits.daily_quota)},
                   {"op": "replace", "path": "/quota/period", "value": "DAY"}]
        if {"apiId": api_id, "stage": api_stage} not in [
                {"apiId": s["apiId"], "stage": s["stage"]} for s in plan.get("apiStages", [])]:
            patches.append({"op": "add", "path": "/apiStages", "value": f"{api_id}:{api_stage}"})
        client.update_usage_plan(usagePlanId=plan["id"], patchOperations=patches)
    else:
        plan = client.create_usage_plan(
            name=plan_name, description="each integrator's API key: its own rate, burst and daily quota",
            apiStages=[{"apiId": api_id, "stage": api_stage}], throttle=throttle, quota=quota)
        created.append(f"usage plan {plan_name}")
    keys = [k for k in _all(client, "get_api_keys", nameQuery=key_name, includeValues=False) if k["name"] == key_name]
    if keys:
        key = keys[0]
    else:
        key = client.create_api_key(name=key_name, enabled=True,
                                    description="an integrator's key for the integrators' routes (x-api-key)")
        created.append(f"API key {key_name}")
    if key["id"] not in {k["id"] for k in _all(client, "get_usage_plan_keys", usagePlanId=plan["id"])}:
        client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        created.append(f"{key_name} in {plan_name}")
    return Plan(plan["id"], key["id"], tuple(created))


def apigateway(region: str) -> Any:
    """An API Gateway client whose every call is bounded (connect, read, retries)."""
    import boto3
    from botocore.config import Config

    return boto3.client("apigateway", region_name=region, config=Config(
        connect_timeout=5, read_timeout=20, retries={"max_attempts": 4, "mode": "standard"}))


def set_up_plan(stage: str, prefix: str, limits: Limits, integrator: str, show_key: bool,
                root: Path = ROOT) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    config = json.loads((root / ".chalice" / "config.json").read_text(encoding="utf-8"))
    api_stage = config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api"))
    try:
        api_id, region = deployed_api(stage, root)
        client = apigateway(region)
        plan = ensure_integrator_plan(client, api_id, api_stage, prefix, limits, integrator)
        value = client.get_api_key(apiKey=plan.key_id, includeValue=True)["value"] if show_key else None
    except (OSError, LookupError, KeyError, BotoCoreError, ClientError) as error:
        print(f"deployed, but the integrators' usage plan is not set up ({error}); the routes that need an API "
              "key refuse every call until it is: run `make deploy-quick` again or see docs/deploy.md",
              file=sys.stderr)
        return 1
    print(f"integrators' usage plan {prefix}-integrators ({plan.plan_id}) on {api_id}/{api_stage}: "
          f"{limits.rate:g} requests/s, burst {limits.burst}, {limits.daily_quota} a day per key; "
          + (f"created {', '.join(plan.created)}" if plan.created else "already there, limits brought up to date"))
    print(f"API key {prefix}-{integrator}: id {plan.key_id} (its value: aws apigateway get-api-key --api-key "
          f"{plan.key_id} --include-value --query value --output text)")
    if value is not None:
        print(f"API key value: {value}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deploy_quick.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--integrator-rate", type=float, default=RATE, help="requests per second of one API key")
    parser.add_argument("--integrator-burst", type=int, default=BURST)
    parser.add_argument("--integrator-quota", type=int, default=QUOTA, help="requests a day of one API key")
    parser.add_argument("--first-integrator", default=FIRST_INTEGRATOR, help="names the first key <prefix>-<this>")
    parser.add_argument("--show-key", action="store_true", help="print the first key's value (else its id only)")
    args = parser.parse_args(argv)
    limits = Limits(args.integrator_rate, args.integrator_burst, args.integrator_quota)
    from chalicelib.services.printing import PRINTING_PACKAGES

    with tempfile.TemporaryDirectory(prefix="motcua-deploy-") as work:
        copy = Path(work)
        for name in PROJECT:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, copy / name)
        requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
        (copy / "requirements.txt").write_text(without_printing(requirements, PRINTING_PACKAGES), encoding="utf-8")
        chalice = Path(sys.executable).parent / "chalice"
        done = subprocess.run([str(chalice), "deploy", "--stage", args.stage], cwd=copy, check=False)
        deployed = copy / ".chalice" / "deployed"
        if deployed.is_dir():
            shutil.copytree(deployed, ROOT / ".chalice" / "deployed", dirs_exist_ok=True)
        if done.returncode != 0:
            return done.returncode
    from scripts.table_template import stages

    return set_up_plan(args.stage, stages()[args.stage], limits, args.first_integrator, args.show_key)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
