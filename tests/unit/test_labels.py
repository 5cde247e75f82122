"""The display-name registry (core/labels.py): every value an owner defines has a Chinese name, so adding a value
without one fails here; and the console's pages show the names, not the English values."""

from __future__ import annotations

import re
from typing import get_args

import pytest
from fastapi.testclient import TestClient

from alerts.monitoring.rules import AlertRule, Severity
from alerts.takedown.delivery import DeliveryState
from core.labels import VOCABULARIES, zh
from core.records import Category, ContactType, EvidenceKind, HitStatus, Label, Platform, PostKind
from tests.unit.test_webui import csrf_of, login, seed_home
from webui.app import DISPLAY_NAMES, create_app
from wiring.scheduler import JobKind

# vocabulary -> the values its owner defines
OWNED: dict[str, list[str]] = {
    "platform": [p.value for p in Platform],
    "post_kind": [k.value for k in PostKind],
    "label": [v.value for v in Label],
    "category": [c.value for c in Category],
    "evidence_kind": [k.value for k in EvidenceKind],
    "contact_type": [t.value for t in ContactType],
    "delivery_state": [s.value for s in DeliveryState],
    "job_kind": list(get_args(JobKind)),
    "alert_rule": [r.value for r in AlertRule],
    "severity": [s.value for s in Severity],
}
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("vocabulary", sorted(OWNED))
def test_every_value_has_a_chinese_name(vocabulary: str) -> None:
    names = VOCABULARIES[vocabulary]
    missing = [v for v in OWNED[vocabulary] if v not in names]
    assert missing == [], f"{vocabulary}: no Chinese name for {missing} in core/labels.py"
    assert all(HAN.search(names[v]) or v in ("qq",) for v in OWNED[vocabulary])


def test_hit_statuses_are_named_where_the_console_reads_names() -> None:
    assert [s.value for s in HitStatus if s.value not in DISPLAY_NAMES["hit_status"]] == []


def test_every_vocabulary_names_its_values_in_chinese() -> None:
    for vocabulary, names in VOCABULARIES.items():
        for value, name in names.items():
            assert HAN.search(name) or name in ("QQ",), (vocabulary, value, name)


def test_zh_falls_back_to_the_value_and_reads_enums() -> None:
    assert zh("label", Label.lead_gen) == "引流"
    assert zh("delivery_state", "built", "batch_status") == "已生成"
    assert zh("post_kind", "something_new") == "something_new"  # shown as it is, never hidden


ENGLISH_VALUES = re.compile(
    r"\b(lead_gen|benign|caption|comment|profile_bio|screenshot|raw_response|built|queued|pending|delivered|"
    r"dead_letter|confirmed|dismissed|review:\w+|report:\w+|login|logout|batch_id|hit_key)\b"
)


def _visible(html: str) -> str:
    """Text a reader sees: no tags, attributes, <code> (ids, hashes) or <option value=...>."""
    html = re.sub(r"<code[^>]*>.*?</code>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\b\w+:\d+\b", " ", text)  # hit keys such as douyin:1001


def test_pages_show_chinese_names_not_english_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, _ = seed_home(tmp_path / "home")
    client = TestClient(create_app(settings))
    token = login(client)
    client.post("/review/claim", data={"csrf": token, "key": "douyin:1002"})
    client.post("/review/decide", data={"csrf": token, "key": "douyin:1002", "action": "confirm"})
    client.post("/reports/build", data={"csrf": token})
    found = {}
    for path in ("/search?q=", "/hit?key=douyin:1002", "/review", "/reports", "/audit"):
        page = client.get(path)
        assert page.status_code == 200, path
        found[path] = sorted(set(ENGLISH_VALUES.findall(_visible(page.text))))
    assert found == {path: [] for path in found}
    assert "已生成" in client.get("/reports").text and "确认违规" in client.get("/audit").text
    assert csrf_of(client.get("/reports").text)
