"""Commands over analysts' decisions: reopen one (with a reason, audited) and show a hit's decision history."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from core.records import STATUS_NAMES_ZH, HitStatus, IllegalTransition
from core.settings import get_settings
from wiring.cli.base import add_plain_row, app, err, fail, open_store_for, out

review_app = typer.Typer(help="Analysts' decisions: reopen one, show a hit's history.", no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("reopen")
def reopen(
    key: Annotated[str, typer.Argument(help="The hit's key, platform:post_id.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why the decision is taken back (audited).")],
    analyst: Annotated[
        str | None, typer.Option("--analyst", help="Who reopens it (default: the operating-system user).")
    ] = None,
) -> None:
    """Take back a confirm, a dismiss, or a batched item not yet delivered: the hit goes back to the queue.

    A batched item's batch is withdrawn (marked superseded, taken out of the outbox); its other items are batched
    again by the next `report`. A delivered item is refused (exit 1): the partner has it."""
    from alerts.takedown.workflow import reopen_hit
    from casebook import Casebook

    if not reason.strip():
        raise fail("--reason must say why")
    settings = get_settings()
    settings.ensure_dirs()
    store = open_store_for(settings)
    casebook = Casebook(settings.casebook)
    try:
        if store.get(key) is None:
            raise fail(f"no hit {key!r} in the index")
        done = reopen_hit(
            settings=settings,
            store=store,
            casebook=casebook,
            key=key,
            analyst=analyst or getpass.getuser(),
            reason=reason,
        )
    except IllegalTransition as exc:
        raise fail(str(exc)) from exc
    finally:
        casebook.close()
        store.close()
    out.print(f"{key}: {done.was.value} ({STATUS_NAMES_ZH[done.was]}) -> new ({STATUS_NAMES_ZH[HitStatus.new]})")
    for batch_id in done.superseded:
        err.print(
            f"batch {batch_id} superseded and withdrawn; its {len(done.others)} other items await the next report"
        )


@review_app.command("history")
def history(
    key: Annotated[str, typer.Argument(help="The hit's key, platform:post_id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A hit's workflow state and every decision on it, oldest first."""
    from casebook import Casebook

    settings = get_settings()
    settings.ensure_dirs()
    casebook = Casebook(settings.casebook)
    try:
        state = casebook.state(key)
        rows = list(reversed(casebook.list_reviews(key)))
    finally:
        casebook.close()
    if as_json:
        payload = {
            "key": key,
            "state": state.value,
            "reviews": [
                {
                    "at": r.at.isoformat(),
                    "analyst": r.analyst,
                    "decision": r.decision,
                    "reason_code": r.reason_code,
                    "reason": r.reason,
                    "category": r.category_to,
                }
                for r in rows
            ],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{key}: {state.value} ({STATUS_NAMES_ZH[state]})")
    for col in ("at", "analyst", "decision", "reason code", "reason", "category"):
        table.add_column(col, overflow="fold")
    for r in rows:
        add_plain_row(
            table,
            r.at.strftime("%Y-%m-%d %H:%M"),
            r.analyst,
            r.decision,
            r.reason_code or "",
            r.reason,
            r.category_to or "",
        )
    out.print(table)
