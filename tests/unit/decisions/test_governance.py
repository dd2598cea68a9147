"""Policy governance: versions with effective dates, maker-checker, one-step rollback, the kill switch —
as pure rules and kept in SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.decisions import governance
from fengkong.errors import ConflictError, InputError, NotFoundError
from fengkong.services import policy_governance as service
from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.decisions.conftest import DEFAULT_POLICY

CONSERVATIVE = DEFAULT_POLICY.with_name("conservative.yaml")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _edited(tmp_path: Path, label: str) -> Path:
    """The default policy under another version label (another text, so another version)."""
    path = tmp_path / f"default-{label}.yaml"
    path.write_text(
        DEFAULT_POLICY.read_text(encoding="utf-8").replace('"2026.11.25-1"', f'"{label}"'), encoding="utf-8"
    )
    return path


def test_maker_checker_and_effective_dates_as_pure_rules() -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    proposed = governance.propose(text, "default.yaml", "alice", T0 + timedelta(days=1), T0)
    assert proposed.status == "proposed" and proposed.version.startswith("default@")
    with pytest.raises(ConflictError, match="maker-checker"):
        governance.approve(proposed, "alice", T0)
    approved = governance.approve(proposed, "bob", T0)
    with pytest.raises(ConflictError, match="not proposed"):
        governance.reject(approved, "carol", T0)
    with pytest.raises(NotFoundError):
        governance.in_force([approved], "default", T0)  # not yet effective
    assert governance.in_force([approved], "default", T0 + timedelta(days=1)) == approved
    with pytest.raises(InputError):
        governance.propose("policy: [", "broken.yaml", "alice", T0, T0)
    with pytest.raises(InputError):
        governance.approve(proposed, " ", T0)


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'governance.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_versions_rollback_and_kill_switch_in_sql(sql: sa.Engine, tmp_path: Path) -> None:
    first = service.propose_policy(sql, DEFAULT_POLICY, "alice", T0, T0)
    service.approve_policy(sql, first.version, "bob", T0)
    second = service.propose_policy(
        sql, _edited(tmp_path, "2026.12.01-1"), "alice", T0 + timedelta(days=10), T0
    )
    with pytest.raises(ConflictError, match="maker-checker"):
        service.approve_policy(sql, second.version, "alice", T0)
    service.approve_policy(sql, second.version, "carol", T0 + timedelta(days=1))
    with pytest.raises(ConflictError, match="not proposed"):
        service.approve_policy(sql, second.version, "dave", T0 + timedelta(days=1))
    with pytest.raises(ConflictError, match="already proposed"):
        service.propose_policy(sql, DEFAULT_POLICY, "erin", T0, T0)

    version, policy = service.policy_for_decisions(sql, "default", T0 + timedelta(days=5))
    assert version.version == first.version and policy.version == first.version
    version, _policy = service.policy_for_decisions(sql, "default", T0 + timedelta(days=11))
    assert version.version == second.version

    back = service.rollback_policy(sql, "default", "bob", T0 + timedelta(days=12))
    assert back.version == first.version
    version, _policy = service.policy_for_decisions(sql, "default", T0 + timedelta(days=12))
    assert version.version == first.version
    with pytest.raises(ConflictError, match="nothing to go back to"):
        service.rollback_policy(sql, "default", "bob", T0 + timedelta(days=13))

    conservative = service.propose_policy(sql, CONSERVATIVE, "alice", T0, T0)
    with pytest.raises(ConflictError, match="not approved"):
        service.set_kill_switch(sql, "default", True, conservative.version, "bob", T0, "incident 1")
    service.approve_policy(sql, conservative.version, "bob", T0)
    service.set_kill_switch(
        sql, "default", True, conservative.version, "bob", T0 + timedelta(days=14), "incident 1"
    )
    version, policy = service.policy_for_decisions(sql, "default", T0 + timedelta(days=14))
    assert version.version == conservative.version and policy.name == "conservative"
    service.set_kill_switch(sql, "default", False, None, "bob", T0 + timedelta(days=15), "incident 1 over")
    version, _policy = service.policy_for_decisions(sql, "default", T0 + timedelta(days=15))
    assert version.version == first.version
    with pytest.raises(InputError, match="fall back"):
        service.set_kill_switch(sql, "default", True, None, "bob", T0, "no fallback")


def test_the_database_refuses_a_checker_who_is_the_maker(sql: sa.Engine) -> None:
    first = service.propose_policy(sql, DEFAULT_POLICY, "alice", T0, T0)
    with pytest.raises(sa.exc.IntegrityError), sql.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE policy_versions SET status = 'approved', checker = maker WHERE policy_version = :v"
            ),
            {"v": first.version},
        )


def test_the_conservative_policy_approves_less(sql: sa.Engine) -> None:
    from fengkong.decisions.policy import load_policy

    default = load_policy(DEFAULT_POLICY)
    conservative = load_policy(CONSERVATIVE)
    assert conservative.risk_bands[-1].pd_max < default.risk_bands[-1].pd_max
    assert all(
        c.line_max_fen <= d.line_max_fen
        for c, d in zip(conservative.risk_bands, default.risk_bands, strict=False)
    )


def test_the_policy_commands(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    import fengkong.cli.decisions  # noqa: F401 - registers the command
    from fengkong.cli.main import app

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    migrate.upgrade(url)
    runner = CliRunner()

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, ["decisions", "policy", *args, "--url", url, "--format", "json"])
        assert result.exit_code == 0, result.output
        document: dict[str, object] = json.loads(result.stdout)
        return document

    proposed = run(
        "propose", str(DEFAULT_POLICY), "--by", "alice", "--effective-from", "2026-01-01T00:00:00+00:00"
    )
    assert proposed["status"] == "proposed"
    same_person = runner.invoke(
        app, ["decisions", "policy", "approve", str(proposed["version"]), "--by", "alice", "--url", url]
    )
    assert same_person.exit_code == 2 and "maker-checker" in " ".join(same_person.stderr.split())
    assert run("approve", str(proposed["version"]), "--by", "bob")["status"] == "approved"
    assert run("in-force", "default")["version"] == proposed["version"]
    bad_time = runner.invoke(
        app, ["decisions", "policy", "in-force", "default", "--at", "yesterday", "--url", url]
    )
    assert bad_time.exit_code == 2 and "Traceback" not in bad_time.output
