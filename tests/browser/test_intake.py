"""A visitor answers the practitioner's intake questions by keyboard, with and without JavaScript."""

import time

import pytest

from bookings.models import Booking, ConsultationType
from intake.models import IntakeQuestion, QuestionKind
from tests.browser.test_booking import check_accessibility, open_every_day, tab_to

BOT_THRESHOLD = 3.2  # seconds: people take longer than this to fill the form in (bookings.forms)


def ask(consultation, order, kind, text, **extra):
    return IntakeQuestion.objects.create(
        consultation_type=consultation, sort_order=order, kind=kind, text=text, **extra
    )


def choose(page, value):
    """In the radio group that has the focus, press the arrow keys until `value` is chosen."""
    for _ in range(6):
        if page.evaluate("document.activeElement.value") == value:
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.checked && document.activeElement.value") == value


def submit(page, started):
    tab_to(page, "el.type === 'submit'")
    time.sleep(max(0, BOT_THRESHOLD - (time.monotonic() - started)))
    page.keyboard.press("Enter")
    page.wait_for_load_state()


# One run per width, each in one of the two modes, keeps the run short; together they cover both.
@pytest.mark.parametrize(
    ("width", "javascript"), [(390, False), (1280, True)], ids=["390px-without-js", "1280px-with-js"]
)
def test_visitor_answers_the_intake_questions_by_keyboard(demo_site, open_page, width, javascript):
    open_every_day()
    consultation = ConsultationType.objects.get(slug="discovery-call")
    symptoms = ask(consultation, 1, QuestionKind.LONG_ANSWER, "What are your main symptoms?", required=True)
    diet = ask(consultation, 2, QuestionKind.ONE_CHOICE, "How do you eat?", choices="Everything\nVegetarian\nVegan")
    tried = ask(
        consultation,
        3,
        QuestionKind.SEVERAL_CHOICES,
        "What have you tried already?",
        choices="Changing my diet\nProbiotics\nNothing yet",
        help_text="Tick all that apply.",
    )
    visit = open_page(width=width, site_scripts=javascript, timezone_id="Europe/Berlin")
    page = visit.page

    visit.goto("/book/discovery-call/")
    page.wait_for_load_state("networkidle")
    tab_to(page, "el.classList.contains('slot')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/details/**")
    started = time.monotonic()
    assert page.get_by_role("group", name="How do you eat? (optional)").is_visible()
    check_accessibility(visit, "details with questions")

    for field, text in (
        ("id_name", "Intake Visitor"),
        ("id_email", "intake@example.com"),
        ("id_phone", "020 7946 0999"),
        ("id_reason", "Bloating after meals."),
    ):
        tab_to(page, f"el.id === '{field}'")
        page.keyboard.type(text)
    # The required question is left out at first. A radio group is one Tab stop; arrows choose in it.
    tab_to(page, f"el.name === 'intake-q{diet.pk}'")
    choose(page, "Vegetarian")
    tab_to(page, f"el.id === 'id_intake-q{tried.pk}_1'")
    page.keyboard.press("Space")
    for field in ("id_consent_privacy", "id_consent_health_data", "id_acknowledged_not_emergency"):
        tab_to(page, f"el.id === '{field}'")
        page.keyboard.press("Space")
    submit(page, started)

    alert = page.get_by_role("alert")
    assert "Please answer “What are your main symptoms?”." in alert.inner_text()
    answer = page.locator(f"#id_intake-q{symptoms.pk}")
    assert answer.get_attribute("aria-invalid") == "true"
    assert page.locator("#id_name").input_value() == "Intake Visitor"
    assert page.locator("#id_reason").input_value() == "Bloating after meals."
    assert page.get_by_label("Vegetarian").is_checked() and page.get_by_label("Probiotics").is_checked()
    assert page.locator("#id_consent_privacy").is_checked()
    check_accessibility(visit, "details with a missing answer")
    assert not Booking.objects.exists()

    tab_to(page, f"el.id === 'id_intake-q{symptoms.pk}'")
    page.keyboard.type("Tiredness\nand bloating")
    submit(page, started)
    page.wait_for_url("**/book/manage/**")

    booking = Booking.objects.get(email="intake@example.com")
    # A browser sends a text area's line breaks as CR LF.
    assert [(a.question_text, a.answer.replace("\r\n", "\n")) for a in booking.intake_answers.all()] == [
        ("What are your main symptoms?", "Tiredness\nand bloating"),
        ("How do you eat?", "Vegetarian"),
        ("What have you tried already?", "Probiotics"),
    ]
    assert "Tiredness" not in page.content()
    assert visit.foreign_requests() == []
