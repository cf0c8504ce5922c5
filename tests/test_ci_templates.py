"""The CI templates in examples/ci/ are valid YAML, run the README's commands, on push (embedded) and on
demand (DANA's sandbox, with secrets), and keep the report and bundle as artifacts."""

from pathlib import Path

import yaml

from test_readme import bare, readme_plan

ROOT = Path(__file__).resolve().parents[1]
README = {bare(c) for c, _ in readme_plan((ROOT / "README.md").read_text())}
SECRETS = ("X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY")


def product_commands(lines):
    return [line.strip() for line in lines if line.strip().startswith(("make ", "dana-uat"))]


def test_github_actions():
    flow = yaml.safe_load((ROOT / "examples/ci/github-actions.yml").read_text())
    assert set(flow[True]) == {"push", "workflow_dispatch"}       # YAML 1.1 reads the key `on` as True
    runs = {name: [line for step in job["steps"] for line in step.get("run", "").splitlines()]
            for name, job in flow["jobs"].items()}
    assert product_commands(runs["embedded"]) == ["make bootstrap", "dana-uat run"]
    assert product_commands(runs["dana-sandbox"]) == ["make bootstrap", "dana-uat run --target sandbox"]
    assert set(product_commands(sum(runs.values(), []))) <= README
    assert flow["jobs"]["dana-sandbox"]["if"] == "github.event_name == 'workflow_dispatch'"
    assert all(f"secrets.{s}" in flow["jobs"]["dana-sandbox"]["env"][s] for s in SECRETS)
    for job in flow["jobs"].values():
        (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
        assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"


def test_gitlab_ci():
    ci = yaml.safe_load((ROOT / "examples/ci/gitlab-ci.yml").read_text())
    base = ci[".dana-uat"]
    assert product_commands(base["before_script"]) == ["make bootstrap"]
    assert base["artifacts"] == {"when": "always", "paths": ["reports/"], "expire_in": "30 days"}
    assert product_commands(ci["uat-embedded"]["script"]) == ["dana-uat run"]
    assert product_commands(ci["uat-dana-sandbox"]["script"]) == ["dana-uat run --target sandbox"]
    assert ci["uat-embedded"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "push"'}]
    assert ci["uat-dana-sandbox"]["rules"][0]["when"] == "manual"
    every = base["before_script"] + ci["uat-embedded"]["script"] + ci["uat-dana-sandbox"]["script"]
    assert set(product_commands(every)) <= README
