"""Typed settings (pydantic-settings, env prefix QINGYUAN_). One data home holds every artefact."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".qingyuan"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QINGYUAN_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Data home: spool, index, reports, evidence.")

    # Classifier
    model_path: Path | None = Field(
        default=None, description="Model directory; default is the model shipped in classifiers/models/."
    )
    classifier: str = Field(default="auto", description="auto (BERT if shipped, else lexicon) | bert | lexicon")
    # 512 posts classified together let the BERT group posts of like length and the cascade skip more per call:
    # whole-process `qingyuan classify` of 20,000 posts ran 887 posts/s at 512 against 547 at 32 (bench_classify)
    batch_size: int = Field(default=512, description="Posts classified together.")

    # Index
    elasticsearch_url: str | None = Field(
        default=None, description="Use Elasticsearch at this URL (or URLs of several nodes, comma-separated)."
    )
    elasticsearch_api_key: SecretStr | None = Field(default=None, description="API key for a secured cluster.")
    elasticsearch_ca_certs: Path | None = Field(default=None, description="CA bundle for a TLS cluster.")
    elasticsearch_index: str = Field(default="qingyuan-hits", description="Alias the hits live behind.")
    # Sized for 200,000 posts a day kept two years at ~2.2 KB a post on disk: ~320 GB of primaries, 40 GB a
    # shard at 8 shards (docs/design.md, "Elasticsearch: cluster, shards, aliases"). Takes effect on new versions.
    es_shards: int = Field(default=8, ge=1, description="Primary shards of each new index version.")
    es_replicas: int | None = Field(
        default=None, ge=0, description="Replicas per shard; unset = 1 on a cluster of 2+ data nodes, 0 on one node."
    )
    casebook_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in the home.")

    # Reports
    report_min_score: float = Field(default=0.8, description="Unreviewed hits at or above this go in reports if asked.")
    notifier_org: str = Field(default="清源内容安全团队", description="Organisation named in takedown notices.")
    notifier_contact: str = Field(default="trust-safety@qingyuan.invalid", description="Contact in takedown notices.")
    notifier_person: str = Field(default="值班分析师", description="Contact person named in notices.")
    report_reviewer: Literal["id", "role"] = Field(
        default="id",
        description="Who confirmed an item, as reports name it: id (the analyst's console account, so a partner can "
        "ask about one decision) | role (审核员 only, where staff identities must not leave the team).",
    )

    # Alerts
    alert_window: str = Field(default="7d", description="How far back alert rules look (7d, 36h...); see alerts.")
    alert_anchor: str = Field(
        default="now", description="Where the alert window ends: now, or data (the newest post in the index)."
    )

    # Crawling
    demo_port: int = Field(default=0, description="Port for the bundled demo site (0 = any free port).")
    chromium_path: str = Field(default="/usr/bin/chromium", description="Debian chromium used by Playwright.")
    ocr_images: bool = Field(default=True, description="Read the text in crawled posts' images (offline PP-OCR).")
    ocr_max_images: int = Field(default=4, description="Images read per post (covers first); OCR costs ~1 s each.")
    # Shared mode (the fleet): several machines share one crawl frontier, one memory of what was fetched and one
    # stream into classification. Unset, everything stays embedded on this machine.
    redis_url: str | None = Field(
        default=None, description="Redis for the shared mode: crawl jobs, frontier, seen-set, post stream."
    )
    shared_dir: Path | None = Field(
        default=None,
        description="Storage every machine mounts for raw responses and evidence (default: inside the data home).",
    )
    claim_after_s: float = Field(
        default=60.0, description="Shared mode: seconds before a dead worker's unacknowledged work is claimed."
    )
    max_tries: int = Field(default=3, description="Shared mode: deliveries before a message goes to the dead letters.")
    crawl_queries: list[str] = Field(
        default_factory=lambda: ["停息挂账", "征信修复", "反催收", "债务优化", "代理退保", "协商还款", "网贷逾期"],
        description="Keyword-search queries for scheduled crawls.",
    )

    @cached_property
    def spool_dir(self) -> Path:
        return self.home / "spool"

    @cached_property
    def artefact_root(self) -> Path:
        """Where raw responses and evidence live: the shared storage in shared mode, else the data home. Evidence
        paths are accepted only from inside it."""
        return self.shared_dir or self.home

    @cached_property
    def raw_dir(self) -> Path:
        return self.artefact_root / "raw"

    @cached_property
    def index_dir(self) -> Path:
        return self.home / "index"

    @cached_property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @cached_property
    def evidence_dir(self) -> Path:
        return self.artefact_root / "evidence"

    @cached_property
    def state_dir(self) -> Path:
        return self.home / "state"

    @cached_property
    def outbox_dir(self) -> Path:
        return self.state_dir / "outbox"

    @property
    def casebook(self) -> str:
        return self.casebook_url or f"sqlite:///{self.home / 'casebook.sqlite3'}"

    def ensure_dirs(self) -> None:
        for d in (self.spool_dir, self.raw_dir, self.index_dir, self.reports_dir, self.evidence_dir, self.state_dir):
            d.mkdir(parents=True, exist_ok=True)


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
