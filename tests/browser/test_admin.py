import io
import re

from django.core.management import call_command

from tests.browser.conftest import enrol_second_factor


def test_admin_logs_in_with_the_printed_credentials_and_edits_a_page(demo_site, open_page, tmp_path, monkeypatch):
    for key in ("ADMIN_USERNAME", "ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    out = io.StringIO()
    call_command("ensure_admin", password_file=str(tmp_path / "admin-password"), stdout=out)
    username, password = re.search(r"username '([^']+)', password '([^']+)'", out.getvalue()).groups()

    visit = open_page()
    page = visit.page
    visit.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # A superuser can see health details: the first sign-in sets up the second factor.
    page.wait_for_url("**/admin/two-factor/?next=*")
    assert len(enrol_second_factor(visit)) == 10
    page.get_by_role("link", name="Continue", exact=True).click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Naomi Integrative Health"

    visit.goto("/admin/pages/")
    page.get_by_role("link", name="Home").first.wait_for()
    from wagtail.models import Page

    about = Page.objects.get(slug="about")
    visit.goto(f"/admin/pages/{about.pk}/edit/")
    title = page.locator("#id_title")
    title.fill("About Naomi, the practitioner")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("has been updated").first.wait_for()
    about.refresh_from_db()
    assert about.get_latest_revision_as_object().title == "About Naomi, the practitioner"

    # The editor's userbar on public pages works under the strict public policy.
    visit.goto("/")
    page.locator("wagtail-userbar").wait_for(state="attached")
    page.wait_for_load_state("networkidle")

    assert visit.foreign_requests() == []
    csp_errors = [text for text in visit.console_errors if "Content Security Policy" in text]
    assert csp_errors == []
