import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command

import pytest


def run(tmp_path, monkeypatch, **env):
    for key in ("ADMIN_USERNAME", "ADMIN_PASSWORD", "ADMIN_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    call_command("ensure_admin", password_file=str(tmp_path / "admin-password"), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_generates_a_password_once_and_prints_the_same_login_every_time(tmp_path, monkeypatch, client):
    first = run(tmp_path, monkeypatch)
    password = re.search(r"password '([^']+)'", first).group(1)
    assert len(password) >= 12
    assert (tmp_path / "admin-password").read_text().strip() == password
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0

    second = run(tmp_path, monkeypatch)
    assert f"password '{password}'" in second
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1

    signed_in = client.post("/admin/login/", {"username": "admin", "password": password, "next": "/admin/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    # A superuser sees health details: the first sign-in goes on to set up the second factor.
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 302 and dashboard["Location"].startswith("/admin/two-factor/")
    assert client.get(dashboard["Location"]).status_code == 200


@pytest.mark.django_db
def test_password_from_the_environment_wins(tmp_path, monkeypatch):
    run(tmp_path, monkeypatch)
    output = run(tmp_path, monkeypatch, ADMIN_PASSWORD="a-chosen-passphrase")
    assert "password 'a-chosen-passphrase'" in output
    assert get_user_model().objects.get(username="admin").check_password("a-chosen-passphrase")


@pytest.mark.django_db
def test_a_password_changed_in_the_admin_is_left_alone(tmp_path, monkeypatch):
    run(tmp_path, monkeypatch)
    user = get_user_model().objects.get(username="admin")
    user.set_password("my-own-new-passphrase")
    user.save()
    output = run(tmp_path, monkeypatch)
    assert "use your own" in output
    user.refresh_from_db()
    assert user.check_password("my-own-new-passphrase")
