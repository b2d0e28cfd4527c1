"""infra/web.yaml, the ranking page's S3 bucket behind CloudFront: valid (cfn-lint) and closed to all but
CloudFront over HTTPS."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "web.yaml"
BIN = Path(sys.executable).parent


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Sub, !Ref, !GetAtt) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node)))


def test_web_template_passes_cfn_lint():
    result = subprocess.run([str(BIN / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bucket_is_private_and_read_only_by_the_distribution_over_https():
    resources = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)["Resources"]
    bucket = resources["WebBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allow] == [{"Service": "cloudfront.amazonaws.com"}]
    assert "AWS:SourceArn" in allow[0]["Condition"]["StringEquals"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)
    config = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
