"""Add an officer to a unit and a group of the stage's Cognito user pool (infra/cognito.yaml), or move one.

    python scripts/cognito_officer.py --pool-id ap-southeast-1_AbC --username cv.binh --email binh@stp.gov.vn \
        --name "Nguyễn Văn Bình" --unit 000.00.11.H56 --group processor [--group leader] [--only]

Creates the user when it does not exist (Cognito e-mails a temporary password), otherwise sets its display name,
e-mail and unit; adds it to each --group; with --only, removes it from the other roles' groups. The unit must be a
Decision 20/2020 identifier, and, with --catalogue FILE (the file `scripts/seed.py` loads), a unit of it still in
operation: the API refuses tokens of any other unit. Runs with an administrator's AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("desk", "processor", "leader", "admin")  # chalicelib/domain/catalogue.py ROLES; the pool's groups


def check_unit(unit: str, catalogue: Path | None) -> None:
    sys.path.insert(0, str(ROOT))
    from chalicelib.domain.codes import is_agency_id

    if not is_agency_id(unit):
        raise SystemExit(f"--unit {unit!r}: not a unit identifier like 000.00.11.H56")
    if catalogue is None:
        return
    units = {u["id"]: u for u in json.loads(catalogue.read_text(encoding="utf-8"))["units"]}
    if unit not in units:
        raise SystemExit(f"--unit {unit}: not in {catalogue}")
    valid_to = units[unit].get("valid_to")
    if valid_to and date.fromisoformat(valid_to) < date.today():
        raise SystemExit(f"--unit {unit}: ceased operating after {valid_to}; its successor is "
                         f"{units[unit].get('successor') or 'not named'}")


def apply(cognito: Any, pool: str, username: str, email: str, name: str, unit: str, groups: list[str],
          only: bool) -> str:
    """Create or update the officer; answer "created" or "updated"."""
    attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                  {"Name": "name", "Value": name}, {"Name": "custom:unit", "Value": unit}]
    try:
        cognito.admin_get_user(UserPoolId=pool, Username=username)
        cognito.admin_update_user_attributes(UserPoolId=pool, Username=username, UserAttributes=attributes)
        outcome = "updated"
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes,
                                  DesiredDeliveryMediums=["EMAIL"])
        outcome = "created"
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    if only:
        held = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"]
        for group in (g["GroupName"] for g in held):
            if group in ROLES and group not in groups:
                cognito.admin_remove_user_from_group(UserPoolId=pool, Username=username, GroupName=group)
    return outcome


def main(argv: list[str] | None = None, cognito: Any = None) -> int:
    parser = argparse.ArgumentParser(description="Add an officer to a unit and a group of the Cognito user pool.")
    parser.add_argument("--pool-id", required=True, help="the stack's UserPoolId output")
    parser.add_argument("--username", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True, help="the display name shown on the control sheet and forms")
    parser.add_argument("--unit", required=True, help="the officer's unit id, e.g. 000.00.11.H56")
    parser.add_argument("--group", action="append", required=True, choices=ROLES, help="a role (repeatable)")
    parser.add_argument("--only", action="store_true", help="leave the other roles' groups")
    parser.add_argument("--catalogue", type=Path, help="check the unit against this catalogue file")
    args = parser.parse_args(argv)
    check_unit(args.unit, args.catalogue)
    if not args.name.strip() or len(args.name) > 256:
        raise SystemExit("--name: 1 to 256 characters")
    if cognito is None:
        import boto3
        from botocore.config import Config

        cognito = boto3.client("cognito-idp", config=Config(connect_timeout=5, read_timeout=10))
    outcome = apply(cognito, args.pool_id, args.username, args.email, args.name.strip(), args.unit,
                    sorted(set(args.group)), args.only)
    print(f"{args.username}: {outcome}, unit {args.unit}, groups {', '.join(sorted(set(args.group)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
