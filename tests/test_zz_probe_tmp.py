import re
from tests.conftest import sign_in
from tests.test_accounts import login, make_user

def test_probe(app, invite):
    target = invite(name="Ann Other", mrn="MRN-9")
    c = app.test_client(); sign_in(c, target); c.post("/submit")
    make_user(app); make_user(app, "admin@example.org", role="admin")
    rows = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        path = rule.rule
        for a in rule.arguments:
            v = {"public_id": target.public_id, "section_id": "general", "filename": "app.css"}[a]
            path = re.sub(rf"<(?:[^:>]+:)?{a}>", v, path)
        for m in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out = []
            for role in ("anon", "patient", "clin", "admin"):
                cl = app.test_client()
                if role == "patient": sign_in(cl, invite())
                if role == "clin": assert login(cl).status_code == 303
                if role == "admin": assert login(cl, "admin@example.org").status_code == 303
                r = cl.open(path, method=m); r.close()
                out.append(f"{r.status_code}{'->'+r.location if r.location else ''}")
            rows.append(f"{rule.endpoint:28} {m:5} {path:50} {' | '.join(out)}")
    print("\n".join(rows))
