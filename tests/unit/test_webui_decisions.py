"""The console's decision handlers without a browser: a cluster decision covers only real near-identical copies
(a posted key is not trusted), preset reason codes are checked, reopen needs a reason and refuses what has no
decision, and undo with nothing to undo is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.records import HitStatus
from tests.unit.test_webui import app, home, login  # noqa: F401  (fixtures)


def _decide(client: TestClient, token: str, key: str, **form: object) -> int:
    client.post("/review/claim", data={"csrf": token, "key": key})
    data = {"csrf": token, "key": key, **form}
    return client.post("/review/decide", data=data, follow_redirects=False).status_code


def test_cluster_decision_reason_codes_reopen_and_undo(app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client = TestClient(app)
    token = login(client)
    console = app.state.console

    # 1002 and 1003 are the same advert with one word changed; 1004 is another text entirely
    assert _decide(client, token, "douyin:1002", action="dismiss", reason_code="nonsense") == 400
    assert _decide(client, token, "douyin:1002", action="dismiss", reason_code="other") == 400  # needs text
    status = _decide(
        client,
        token,
        "douyin:1002",
        action="dismiss",
        reason_code="news",
        cluster="1",
        also=["douyin:1003", "douyin:1004"],  # 1004 forged into the form: not a near-duplicate
    )
    assert status == 303
    statuses = {h.key: h.status for h in console.store.get_many(["douyin:1002", "douyin:1003", "douyin:1004"])}
    assert statuses == {
        "douyin:1002": HitStatus.dismissed,
        "douyin:1003": HitStatus.dismissed,
        "douyin:1004": HitStatus.new,
    }
    rows = [console.casebook.list_reviews(k)[0] for k in ("douyin:1002", "douyin:1003")]
    assert [(r.decision, r.reason_code) for r in rows] == [("dismissed", "news"), ("dismissed", "news")]
    assert "与 douyin:1002 近似" in rows[1].reason
    assert console.casebook.list_reviews("douyin:1004") == []

    # reopen from the hit page: a reason is required; a hit with no decision cannot be reopened
    hit_page = client.get("/hit", params={"key": "douyin:1003"}).text
    assert 'id="reopen-form"' in hit_page and "已排除" in hit_page
    assert client.post("/review/reopen", data={"csrf": token, "key": "douyin:1003", "reason": " "}).status_code == 400
    assert client.post("/review/reopen", data={"csrf": token, "key": "douyin:1004", "reason": "x"}).status_code == 409
    r = client.post(
        "/review/reopen",
        data={"csrf": token, "key": "douyin:1003", "reason": "是广告，不是新闻"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/hit?key=douyin%3A1003"
    assert console.store.get("douyin:1003").status is HitStatus.new
    assert console.casebook.list_audit()[0].what == "review:reopened"

    # undo takes back the analyst's last decision: the cluster's, minus the copy reopened since
    r = client.post("/review/undo", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert console.store.get("douyin:1002").status is HitStatus.new
    assert client.post("/review/undo", data={"csrf": token}).status_code == 409  # nothing left to undo


def test_a_superseded_batch_cannot_be_sent(app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client = TestClient(app)
    token = login(client)
    console = app.state.console
    assert _decide(client, token, "douyin:1004", action="confirm") == 303
    plan = client.get("/reports/plan", params={"include_unreviewed": "1", "min_score": "0.9"}).text
    # 1002, 1003 unreviewed at 0.95 beside the confirmed 1004; 1001 is alice's next queue item (claimed): left out
    assert 'id="plan-total">3<' in plan and 'id="plan-unreviewed">2<' in plan
    built = client.post(
        "/reports/build",
        data={"csrf": token, "include_unreviewed": "1", "min_score": "0.9", "offered": ["douyin:1004"], "keys": []},
    )
    assert "所有条目都已移除" in built.text and console.casebook.list_batches() == []  # nothing ticked: no batch
    client.post("/reports/build", data={"csrf": token})
    (batch,) = console.casebook.list_batches()
    assert batch.item_keys == ["douyin:1004"]
    outbox = console.settings.state_dir / "outbox" / batch.id
    assert outbox.is_dir()
    r = client.post("/review/reopen", data={"csrf": token, "key": "douyin:1004", "reason": "误判"})
    assert r.status_code == 200 and "已撤回" in r.text  # the hit page's flash names the withdrawn batch
    assert console.casebook.get_batch(batch.id).status == "superseded" and not outbox.exists()
    refused = client.post("/reports/send", data={"csrf": token, "batch_id": batch.id})
    assert refused.status_code == 409 and not outbox.exists()
    assert "不发送" in client.get("/reports").text
