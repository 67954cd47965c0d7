"""Operator commands under ``flask --app wsgi intake``: schema, invitations, PDFs, demo, audit."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from forms.loader import get_catalog
from intake import db, migrate
from intake.audit import log as audit
from intake.auth import accounts, api_tokens, totp
from intake.auth.passwords import PasswordRejected, check_password
from intake.clock import utcnow
from intake.ehr import push
from intake.ehr.errors import EhrError
from intake.ehr.keyspec import KEY_ALGS, KeyAlg
from intake.ehr.settings import ehr_settings, settings_problems
from intake.intakes.demo import DEMO_PATIENT, demo_answers, demo_detail_sections
from intake.intakes.invitations import create_invitation, find_by_public_id, patient_link
from intake.intakes.submissions import NotSubmittedError, make_pdf, submit_intake
from intake.models import Submission

if TYPE_CHECKING:
    from intake.ehr.keys import PrivateKey

CLI_ACTOR = "cli"

P = ParamSpec("P")
R = TypeVar("R")


# Commands that run whatever state the schema is in: they make it, or never touch the database.
WITHOUT_SCHEMA = frozenset({"init-db", "make-migration", "ehr-keygen", "ehr-jwks", "ehr-check"})


def _schema_checked(command: Callable[P, R]) -> Callable[P, R]:
    """Refuse, in one clear line, to run a command on a missing or older database schema.

    Without this, ``intake demo`` on a fresh database (or any command after an upgrade that was
    not followed by ``init-db``) ends in a raw SQL traceback.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        problem = migrate.schema_problem(db.engine())
        if problem:
            raise click.ClickException(
                f"{problem[0].upper()}{problem[1:]}. Run `flask --app wsgi intake init-db` "
                "first (scripts/serve does this)."
            )
        return command(*args, **kwargs)

    return run


class IntakeGroup(AppGroup):
    """An ``AppGroup`` whose commands check the database schema before they run."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if cmd.callback is not None and (name or cmd.name) not in WITHOUT_SCHEMA:
            cmd.callback = with_appcontext(_schema_checked(cmd.callback))
        super().add_command(cmd, name)


intake_cli = IntakeGroup("intake", help="Operate the intake service.")


def _link(token: str) -> str:
    return patient_link(current_app.config["PUBLIC_BASE_URL"], token)


@intake_cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema."""
    migrate.upgrade(db.engine())
    click.echo("Database schema is up to date.")


@intake_cli.command("make-migration")
@click.argument("message")
def make_migration(message: str) -> None:
    """Write a new migration from the models (for developers)."""
    migrate.autogenerate(db.engine(), message)


@intake_cli.command("invite")
@click.option("--name", required=True, help='Patient name: "Given Family" or "Family, Given".')
@click.option("--dob", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--mrn", default=None, help="Medical record number (optional).")
@click.option("--expires-days", type=click.IntRange(1, 90), default=None, help="Link validity.")
def invite(name: str, dob: click.DateTime, mrn: str | None, expires_days: int | None) -> None:
    """Create an invitation and print the patient's private link."""
    days = expires_days or current_app.config["INVITE_DAYS"]
    with db.transaction() as tx:
        new = create_invitation(tx, name, dob.date(), mrn, days)  # type: ignore[attr-defined]
        audit.record(tx, CLI_ACTOR, "invitation.create", new.intake.public_id)
    click.echo(f"Intake {new.intake.public_id} for {new.intake.display_name}, valid {days} days.")
    click.echo("Send the patient this private link (it is shown only once):")
    click.echo(_link(new.token))


@intake_cli.command("pdf")
@click.argument("intake_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def write_pdf(intake_id: str, output: Path) -> None:
    """Write the stored PDF summary of a submitted intake (rendered here if it is not yet)."""
    with db.transaction() as tx:
        intake = find_by_public_id(tx, intake_id)
        intake_key = intake.id if intake is not None and intake.submission is not None else None
        if intake_key is None:
            audit.record(tx, CLI_ACTOR, "pdf.export", intake_id, outcome="not_found")
    if intake_key is None:
        raise click.ClickException(f"No submitted intake with id {intake_id}.")
    try:
        make_pdf(intake_key)  # nothing to do when it is stored; outside any transaction if not
    except Exception as exc:
        with db.transaction() as tx:
            audit.record(tx, CLI_ACTOR, "pdf.export", intake_id, outcome="render_failed")
        raise click.ClickException(
            f"The PDF could not be rendered ({type(exc).__name__}); see the log above."
        ) from None
    with db.transaction() as tx:
        intake = find_by_public_id(tx, intake_id)
        assert intake is not None and intake.submission is not None
        data = intake.submission.pdf
        audit.record(tx, CLI_ACTOR, "pdf.export", intake_id, outcome="ok")
    assert data is not None
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(data):,} bytes).")


@intake_cli.command("demo")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("demo-intake-summary.pdf"),
    show_default=True,
)
def demo(output: Path) -> None:
    """Create a fictional, fully answered intake and write its PDF."""
    catalog = get_catalog()
    with db.transaction() as tx:
        new = create_invitation(
            tx,
            f"{DEMO_PATIENT.family_name}, {DEMO_PATIENT.given_name}",
            DEMO_PATIENT.date_of_birth,
            DEMO_PATIENT.mrn,
            current_app.config["INVITE_DAYS"],
        )
        new.intake.answers = demo_answers(catalog)
        new.intake.detail_sections = demo_detail_sections(catalog)
        new.intake.sections_saved = [s.id for s in catalog.sections]
        new.intake.opened_at = new.intake.created_at
        submission = submit_intake(tx, new.intake)
        audit.record(tx, CLI_ACTOR, "demo.create", new.intake.public_id)
    try:
        make_pdf(new.intake.id)  # here and now: the command writes it (a worker finds it done)
    except Exception as exc:
        raise click.ClickException(
            f"The demo PDF could not be rendered ({type(exc).__name__}); see the log above."
        ) from None
    with db.transaction() as tx:
        data = tx.get(Submission, submission.id).pdf  # type: ignore[union-attr]
    assert data is not None
    output.write_bytes(data)
    click.echo(f"Demo intake {new.intake.public_id} (fictional patient {new.intake.display_name}).")
    click.echo(f"Its PDF summary: {output.resolve()} ({len(data):,} bytes).")
    click.echo(
        f"Patient link (already submitted, shows the thank-you page; date of birth "
        f"{DEMO_PATIENT.date_of_birth.isoformat()}): {_link(new.token)}"
    )
    click.echo(
        f"Write it again later with: flask --app wsgi intake pdf {new.intake.public_id} -o FILE"
    )


@intake_cli.command("worker")
@click.option(
    "--processes", type=click.IntRange(1, 32), default=1, show_default=True,
    help="Worker processes to keep running (each does one job at a time).",
)  # fmt: skip
@click.option("--burst", is_flag=True, help="Do the jobs due now, then stop (no supervision).")
@click.option(
    "--one", is_flag=True, hidden=True, help="One worker process (what --processes runs)."
)
def worker_command(processes: int, burst: bool, one: bool) -> None:
    """Run the background worker: PDF renders and EHR sends (scripts/serve starts one)."""
    from intake import worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if burst:
        worker.release_dead(app)
        click.echo(f"Done {worker.run_until_idle(app)} job(s).")
        return
    if one:
        worker.serve_one(app)
        return
    click.echo(f"intake worker: {processes} process(es); stop with Ctrl+C or SIGTERM.")
    info = click.get_current_context().find_object(ScriptInfo)
    target = ["--app", info.app_import_path] if info and info.app_import_path else []
    worker.supervise(
        processes, [sys.executable, "-m", "flask", *target, "intake", "worker", "--one"]
    )


audit_cli = IntakeGroup("audit", help="Check the audit log.")
intake_cli.add_command(audit_cli)


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoints",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A file of lines from `intake audit checkpoint`: the log must still hold each.",
)
def verify_audit(checkpoints: tuple[Path, ...]) -> None:
    """Check the audit log: its hash chain, each row's signature, and any checkpoints; exit 1
    if something does not hold, and say exactly what was and was not proven."""
    key = audit.configured_key()
    with db.read_snapshot() as snapshot:  # a long read: no write lock meanwhile
        result = audit.verify_chain(snapshot, key)
        problems = [
            (path.name, n, audit.check_checkpoint(snapshot, key, line) if key else "no AUDIT_KEY")
            for path in checkpoints
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if line.strip()
        ]
    if not result.ok:
        click.echo(f"Audit chain BROKEN at row {result.first_bad_id}: {result.reason}", err=True)
        raise SystemExit(1)
    click.echo(f"Audit chain OK: {result.rows_checked} rows")
    if result.signatures_checked:
        signed = result.rows_checked - result.unsigned_rows
        click.echo(f"Signatures OK: {signed} rows signed with AUDIT_KEY")
        if result.unsigned_rows:
            click.echo(
                f"  The oldest {result.unsigned_rows} rows were written before the service had "
                "an audit key: only their hashes vouch for them."
            )
    else:
        click.echo(
            "Signatures NOT checked: AUDIT_KEY is not set here. The hashes alone prove nothing "
            "against someone who can write to the database: they can be recomputed."
        )
    for name, n, problem in problems:
        click.echo(f"Checkpoint {name}:{n} " + (f"BROKEN: {problem}" if problem else "OK"))
    # Kept outside the database, these let a later check notice rows removed from the end.
    click.echo(f"Head hash: {result.head_hash}")
    if not checkpoints:
        click.echo(
            "Not proven: that no newest rows were removed or rewritten. Keep checkpoints "
            "(`intake audit checkpoint -o FILE`, for example daily) and pass them with --checkpoint."
        )
    if any(problem for _, _, problem in problems):
        raise SystemExit(1)


@audit_cli.command("checkpoint")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the line to this file (keep it on another machine) instead of printing it.",
)
def checkpoint_audit(output: Path | None) -> None:
    """Sign the log's row count and head hash now, for a later `audit verify --checkpoint`."""
    key = audit.configured_key()
    if key is None:
        raise click.ClickException("AUDIT_KEY is not set: a checkpoint needs it to be signed.")
    with db.read_snapshot() as snapshot:
        line = audit.checkpoint(snapshot, key, utcnow())
    if output is None:
        click.echo(line)
        return
    with output.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    click.echo(f"Checkpoint appended to {output}")


def _password_link(token: str) -> str:
    return accounts.password_link_url(current_app.config["PUBLIC_BASE_URL"], token)


def _echo_password_link(token: str) -> None:
    click.echo("Send the person this one-time link to choose a password (valid 24 hours):")
    click.echo(_password_link(token))


@intake_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option(
    "--set-password-link",
    is_flag=True,
    help="Print a one-time link for the person to choose a password, instead of asking for it.",
)
def create_user(email: str, role: str, set_password_link: bool) -> None:
    """Create a clinician or admin account for the clinic pages (/clinic)."""
    settings = accounts.Settings.from_config(current_app.config)
    try:
        email = accounts.check_new_account(db.session(), email, role)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session().rollback()  # asking for the password must not hold SQLite's write lock

    def acceptable(password: str) -> str:
        try:
            check_password(password, email)
        except PasswordRejected as rejected:
            raise click.BadParameter(str(rejected)) from None
        return password

    password = None
    if not set_password_link:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, value_proc=acceptable
        )
    try:
        with db.transaction() as tx:
            user = accounts.create_user(tx, email, role, password, settings)
            token = accounts.issue_password_link(tx, user) if set_password_link else None
            audit.record(tx, CLI_ACTOR, "user.create", target=audit.user_ref(user.id))
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created the {role} account {user.email}.")
    if token is not None:
        _echo_password_link(token)


@intake_cli.command("password-link")
@click.argument("email")
def password_link(email: str) -> None:
    """Print a new one-time set-password link for an account (a forgotten password)."""
    with db.transaction() as tx:
        user = accounts.find_user(tx, email)
        if user is None or user.disabled_at is not None:
            raise click.ClickException(f"No enabled account for {email}.")
        token = accounts.issue_password_link(tx, user)
        audit.record(tx, CLI_ACTOR, "user.password_link", target=audit.user_ref(user.id))
    _echo_password_link(token)


@intake_cli.command("disable-user")
@click.argument("email")
def disable_user(email: str) -> None:
    """Stop an account signing in, end its sessions and revoke the API tokens it created, now."""
    with db.transaction() as tx:
        user = accounts.find_user(tx, email)
        if user is None:
            raise click.ClickException(f"No account for {email}.")
        revoked = accounts.disable_user(tx, user)
        audit.record(tx, CLI_ACTOR, "user.disable", target=audit.user_ref(user.id))
        api_tokens.audit_revoked_with_account(tx, revoked, CLI_ACTOR)
    click.echo(f"Disabled {user.email}; its sessions are ended.")
    if revoked:
        click.echo(
            f"Revoked the {len(revoked)} API token(s) it created: the systems that used them "
            "need new tokens from an administrator (/clinic/admin/api-tokens)."
        )


@intake_cli.command("reset-totp")
@click.argument("email")
def reset_totp(email: str) -> None:
    """Turn two-factor sign-in off for an account whose phone is lost; it can set it up again."""
    with db.transaction() as tx:
        user = accounts.find_user(tx, email)
        if user is None:
            raise click.ClickException(f"No account for {email}.")
        totp.turn_off(user)
        audit.record(tx, CLI_ACTOR, "user.totp_reset", target=audit.user_ref(user.id))
    click.echo(f"Two-factor sign-in is off for {user.email}: it signs in with its password alone.")


# --- EHR hand-off: the signing key and a connection check (intake.ehr) ---------------------------
# The key and network modules are imported by the commands that use them: the app (and every web
# worker) loads this module, and needs neither cryptography nor httpx until it sends to an EHR.


def _echo_jwks(key: PrivateKey, alg: KeyAlg) -> None:
    from intake.ehr import keys as ehr_keys

    click.echo(json.dumps(ehr_keys.public_jwks(key, alg), indent=2))


@intake_cli.command("ehr-keygen")
@click.option(
    "--alg",
    type=click.Choice(KEY_ALGS),
    default=None,
    help="Signing algorithm (default: EHR_KEY_ALG).",
)
@click.option("--force", is_flag=True, help="Replace an existing key; the EHR needs the new one.")
def ehr_keygen(alg: str | None, force: bool) -> None:
    """Make the service's SMART Backend Services key; print the public JWKS to register."""
    from intake.ehr import keys as ehr_keys

    configured = current_app.config["EHR_KEY_ALG"]
    chosen = cast(KeyAlg, alg or configured)
    path = Path(current_app.config["EHR_KEY_PATH"])
    try:
        key = ehr_keys.generate_key_file(path, chosen, force=force)
    except (ehr_keys.KeyFileError, OSError) as error:
        raise click.ClickException(str(error)) from None
    _echo_jwks(key, chosen)  # stdout holds the JWKS alone: `... ehr-keygen > jwks.json` works
    click.echo(f"Wrote the {chosen} private key to {path} (mode 0600; never send it).", err=True)
    click.echo("Register the public JWKS above with the EHR for this client.", err=True)
    if chosen != configured:
        click.echo(f"Set EHR_KEY_ALG={chosen}: the service signs with EHR_KEY_ALG.", err=True)


@intake_cli.command("ehr-jwks")
def ehr_jwks() -> None:
    """Print the public JWKS of the existing key, to register it with the EHR again."""
    from intake.ehr import keys as ehr_keys

    alg = current_app.config["EHR_KEY_ALG"]
    try:
        key = ehr_keys.load_private_key(Path(current_app.config["EHR_KEY_PATH"]), alg)
    except ehr_keys.KeyFileError as error:
        raise click.ClickException(str(error)) from None
    _echo_jwks(key, alg)


@intake_cli.command("ehr-check")
def ehr_check() -> None:
    """Check the EHR settings, get an access token and read the EHR's /metadata."""
    from intake.ehr.auth import token_provider
    from intake.ehr.client import FhirClient

    settings = ehr_settings(current_app.config)
    if settings is None:
        click.echo("The EHR hand-off is off: EHR_FHIR_BASE_URL is not set.")
        return
    problems = settings_problems(settings)
    for problem in problems:
        click.echo(f"- {problem}", err=True)
    if problems:
        raise click.ClickException("Fix the EHR settings above, then run ehr-check again.")
    try:
        token_provider(settings).token()
        click.echo(f"Access token: OK ({settings.auth}).")
        with FhirClient(settings) as client:
            statement = client.capabilities()
    except EhrError as error:
        raise click.ClickException(str(error)) from None
    software = (statement.get("software") or {}).get("name") or "unnamed software"
    click.echo(
        f"OK: {settings.base_url}/metadata answered (FHIR {statement.get('fhirVersion', '?')}, "
        f"{software})."
    )


@intake_cli.command("push")
@click.argument("intake_id")
def push_command(intake_id: str) -> None:
    """Send a submitted intake's PDF to the EHR as a DocumentReference (never twice)."""
    try:
        result = push.send(intake_id.strip().upper(), CLI_ACTOR)
    except push.NotConfiguredError as exc:
        raise click.ClickException(f"Sending to the EHR is not set up: {exc}") from exc
    except NotSubmittedError as exc:
        raise click.ClickException(f"No submitted intake {intake_id}.") from exc
    except push.AlreadySendingError as exc:
        raise click.ClickException("A send of this intake is under way; try again later.") from exc
    headline = {
        "created": "Created: the EHR now has the document",
        "exists": "Already there: the EHR had this document; nothing new was created",
        "rejected": "Rejected by the EHR",
        "failed": "Not sent",
        "unmatched": "Not sent: the EHR's patient could not be matched",
    }[result.outcome]
    remote = f" (EHR id {result.remote_id})" if result.remote_id else ""
    status = f" [HTTP {result.http_status}]" if result.http_status else ""
    click.echo(f"{headline}{remote}{status}.")
    if result.outcome not in ("created", "exists"):
        click.echo(result.message, err=True)
        raise SystemExit(1)


# --- end of EHR hand-off commands ------------------------------------------------------------------


def init_app(app: Flask) -> None:
    app.cli.add_command(intake_cli)
