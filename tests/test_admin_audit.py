"""The administrators' audit log page and its CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from intake import db
from intake.audit import log as audit
from intake.models import AuditEvent
from tests.clinic_accounts import assert_to_login, audit_rows, login, make_user

ADMIN = "admin@example.org"
CLINICIAN = "dr.bea@example.org"
PAGES = ("/clinic/admin/audit", "/clinic/admin/audit.csv")


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """``client``, signed in as an administrator (account 1)."""
    make_user(app, email=ADMIN, role="admin")
    assert login(client, email=ADMIN).status_code == 303
    return client


def add_events(app: Flask, *events: tuple[str, str, str | None]) -> None:
    with app.app_context(), db.transaction() as tx:
        for actor, action, intake_id in events:
            audit.record(tx, actor, action, intake_public_id=intake_id, address="192.0.2.9")


def first_word(cell: str) -> str:
    words = re.sub(r"<[^>]+>", " ", cell).split()
    return words[0] if words else ""


def table_rows(page: str) -> list[list[str]]:
    """Each row's cells, as their first word: id, date, actor, action, intake, address, outcome."""
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[first_word(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for path in PAGES:
        assert_to_login(client.get(path))


def test_clinicians_are_refused_on_the_server(app: Flask, client: FlaskClient) -> None:
    make_user(app, email=CLINICIAN)
    login(client, email=CLINICIAN)
    before = audit_rows(app)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "This page is for administrators" in response.get_data(as_text=True)
    assert audit_rows(app) == before  # nothing exported, nothing recorded
    assert "Audit log" not in client.get("/clinic/account/two-factor").get_data(as_text=True)


def test_the_page_lists_events_newest_first_with_the_chain_state(
    app: Flask, admin: FlaskClient
) -> None:
    add_events(app, ("cli", "invitation.create", "AAAA-BBBB-CCCC"))
    with app.app_context():
        head = audit.verify_chain(db.session()).head_hash
    response = admin.get("/clinic/admin/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hash chain intact: 2 events checked." in page  # the admin's sign-in, and ours
    assert head in page  # the page shows the log as it stood; its own view is recorded after
    rows = table_rows(page)
    assert [r[0] for r in rows] == ["2", "1"]
    assert rows[0][2:4] == ["cli", "invitation.create"]
    assert ADMIN in page  # user:1 is shown with its email
    assert 'href="/clinic/admin/audit"' in page  # the admin's link in the layout


def test_filters_by_user_and_intake_id(app: Flask, admin: FlaskClient) -> None:
    make_user(app, email=CLINICIAN)  # account 2
    add_events(
        app,
        ("user:2", "intake.view", "AAAA-BBBB-CCCC"),
        ("user:2", "pdf.download", "DDDD-EEEE-FFFF"),
        ("user:1", "intake.view", "AAAA-BBBB-CCCC"),
    )

    def actions(query: str) -> list[str]:
        """The actions listed, leaving out the rows of this test's own earlier views."""
        response = admin.get(f"/clinic/admin/audit?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        rows = table_rows(response.get_data(as_text=True))
        return [row[3] for row in rows if row[3] != "audit.view"]

    assert actions(f"user={CLINICIAN.upper()}") == ["pdf.download", "intake.view"]
    assert actions("user=user:2&intake=aaaa-bbbb-cccc") == ["intake.view"]
    assert actions("intake=AAAA-BBBB-CCCC") == ["intake.view", "intake.view"]
    assert actions("user=user:1") == ["intake.view", "auth.login"]
    page = admin.get("/clinic/admin/audit?user=nobody@example.org").get_data(as_text=True)
    assert "0 events." in page and "<tbody>" not in page
    bad = admin.get("/clinic/admin/audit?intake=%3Cscript%3E")
    assert bad.status_code == 422
    assert "letters, digits and dashes" in bad.get_data(as_text=True)
    assert "<script>" not in bad.get_data(as_text=True)


def test_pages_of_fifty(app: Flask, admin: FlaskClient) -> None:
    add_events(app, *[("cli", f"test.event{n}", None) for n in range(121)])  # 122 in all
    first = admin.get("/clinic/admin/audit").get_data(as_text=True)
    assert "Page 1 of 3" in first and "122 events." in first
    assert [r[0] for r in table_rows(first)][:2] == ["122", "121"]
    assert len(table_rows(first)) == 50
    assert 'href="/clinic/admin/audit?page=2"' in first
    last = admin.get("/clinic/admin/audit?page=3").get_data(as_text=True)
    assert "123 events." in last  # the first view is in the log now
    assert [r[0] for r in table_rows(last)] == [str(n) for n in range(23, 0, -1)]
    assert "Newer events" in last and "Older events" not in last
    assert "Page 3 of 3" in admin.get("/clinic/admin/audit?page=99").get_data(as_text=True)
    filtered = admin.get("/clinic/admin/audit?user=cli&page=2").get_data(as_text=True)
    assert 'href="/clinic/admin/audit?page=1&amp;user=cli"' in filtered


def test_a_broken_chain_is_shown_at_the_top(
    app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = audit.VerifyResult(False, 1, 2, "prev_hash does not match the previous row's hash")
    monkeypatch.setattr(audit, "verify_chain", lambda _db: broken)
    page = admin.get("/clinic/admin/audit").get_data(as_text=True)
    assert "Hash chain broken at event 2" in page
    assert page.index("chain-status") < page.index("<table")


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_headers_and_content(app: Flask, admin: FlaskClient) -> None:
    add_events(
        app,
        ("cli", "invitation.create", "AAAA-BBBB-CCCC"),
        ("=HYPERLINK(1)", "test.formula", None),
        ("cli", "pdf.export", "DDDD-EEEE-FFFF"),
    )
    response = admin.get("/clinic/admin/audit.csv?intake=aaaa-bbbb-cccc")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="audit-\d{8}-\d{6}\.csv"', disposition)
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response.get_data(as_text=True))
    # Chain order; the export's own event names the intake filtered on, so it is included.
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("cli", "invitation.create"),
        ("user:1", "audit.export"),
    ]
    with app.app_context():
        stored = db.session().scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        by_id = {event.id: event for event in stored}
    for row in rows:
        event = by_id[int(row["id"])]
        assert (row["row_hash"], row["prev_hash"]) == (event.row_hash, event.prev_hash)
        assert row["at"].endswith("+00:00")

    everything = read_csv(admin.get("/clinic/admin/audit.csv").get_data(as_text=True))
    assert [int(r["id"]) for r in everything] == list(range(1, len(everything) + 1))
    formula = next(r for r in everything if r["action"] == "test.formula")
    assert formula["actor"] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it


def test_the_export_is_audited_and_the_chain_still_verifies(app: Flask, admin: FlaskClient) -> None:
    admin.get("/clinic/admin/audit.csv?user=cli").get_data()
    admin.get("/clinic/admin/audit.csv").get_data()
    exports = [row for row in audit_rows(app) if row[1] == "audit.export"]
    assert exports == [("user:1", "audit.export", "ok")] * 2
    with app.app_context():
        result = audit.verify_chain(db.session())
    assert result.ok and result.rows_checked == len(audit_rows(app))
    assert admin.get("/clinic/admin/audit.csv?intake=%3Cx%3E").status_code == 422
    assert len([r for r in audit_rows(app) if r[1] == "audit.export"]) == 2


def test_every_view_of_the_log_is_audited_with_the_intake_it_was_filtered_to(
    app: Flask, admin: FlaskClient
) -> None:
    admin.get("/clinic/admin/audit")
    admin.get("/clinic/admin/audit?intake=aaaa-bbbb-cccc&page=2")
    assert admin.get("/clinic/admin/audit?intake=%3Cx%3E").status_code == 422
    with app.app_context():
        views = db.session().execute(
            select(AuditEvent.actor, AuditEvent.intake_public_id, AuditEvent.outcome)
            .where(AuditEvent.action == "audit.view")
            .order_by(AuditEvent.id)
        )
        assert [tuple(row) for row in views] == [
            ("user:1", None, "ok"),
            ("user:1", "AAAA-BBBB-CCCC", "ok"),
            ("user:1", None, "bad_filter"),
        ]
        assert audit.verify_chain(db.session()).ok


def test_a_large_export_streams_in_batches(app: Flask, admin: FlaskClient) -> None:
    from intake.audit import browse as audit_browse

    add_events(app, *[("cli", "test.event", None) for _ in range(25)])
    with app.app_context():
        chunks = list(audit_browse.export_csv(db.session(), audit_browse.Filters(), batch=10))
    assert len(chunks) == 1 + 3  # the header, then 26 rows in batches of 10
    assert len(read_csv("".join(chunks))) == 26


def test_checking_the_chain_lets_others_write_meanwhile(
    app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads every event (seconds on a large log): patients' saves must not wait for
    it. Another writer gets in while the check is running, without waiting for a lock."""
    verify = audit.verify_chain
    wrote: list[bool] = []

    def verify_while_someone_writes(snapshot):  # type: ignore[no-untyped-def]
        result = verify(snapshot)
        with db.engine().connect() as other:
            if other.dialect.name == "sqlite":  # fail at once, rather than wait, if it is held
                other.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
            other.exec_driver_sql("UPDATE users SET email = email WHERE id = -1")
            other.commit()
        wrote.append(True)
        return result

    monkeypatch.setattr(audit, "verify_chain", verify_while_someone_writes)
    response = admin.get("/clinic/admin/audit")
    assert response.status_code == 200 and wrote == [True]
    assert "Hash chain intact" in response.get_data(as_text=True)
