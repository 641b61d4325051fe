"""Intake questions per consultation type: asked on the details step, kept encrypted with the booking,
shown to the practice, exported, erased and purged with the person, and never emailed or logged."""

import datetime as dt
import importlib
import json
import logging
import re

from django.apps import apps
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.views.debug import ExceptionReporter

import pytest
import time_machine

from bookings import privacy, services
from bookings.models import Booking
from bookings.notifications import calendar_file, deliver_due
from intake.models import IntakeAnswer, IntakeQuestion, QuestionKind
from tests.dumps import full_dump
from tests.factories.bookings import ConsultationTypeFactory, book, open_every_day
from tests.test_booking_flow import NOW, SLOT, details_url, form_data

MEDICINES = "Intake-medicines: levothyroxine 50 mcg"
HISTORY = "Intake-history: hair falling out in patches since spring"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(practice_settings, clock):
    open_every_day()
    return ConsultationTypeFactory(name="Initial consultation", slug="initial")


@pytest.fixture
def questions(consultation):
    """One question of each kind, created out of order; one switched off, one for another type."""

    def ask(order, kind, text, **extra):
        return IntakeQuestion.objects.create(
            consultation_type=consultation, sort_order=order, kind=kind, text=text, **extra
        )

    asked = {
        "tested": ask(5, QuestionKind.YES_NO, "Have you had a gut test before?", required=True),
        "medicines": ask(
            1,
            QuestionKind.SHORT_ANSWER,
            "Which medicines do you take?",
            required=True,
            help_text="Include supplements.",
        ),
        "symptoms": ask(
            4, QuestionKind.SEVERAL_CHOICES, "Which of these do you have?", choices="Bloating\nFatigue\nHair loss"
        ),
        "history": ask(2, QuestionKind.LONG_ANSWER, "How have your symptoms developed?"),
        "diet": ask(
            3, QuestionKind.ONE_CHOICE, "How do you eat?", choices="Everything\nVegetarian\nVegan", required=True
        ),
    }
    ask(6, QuestionKind.SHORT_ANSWER, "A question switched off", is_active=False)
    IntakeQuestion.objects.create(
        consultation_type=ConsultationTypeFactory(), sort_order=0, text="A question of another consultation"
    )
    return asked


def answers(questions, **overrides):
    """The posted answers, named as the form names them ("intake-q<id>")."""
    values = {
        "medicines": MEDICINES,
        "history": HISTORY,
        "diet": "Vegetarian",
        "symptoms": ["Bloating", "Hair loss"],
        "tested": "No",
    }
    values.update(overrides)
    return {f"intake-q{questions[key].pk}": value for key, value in values.items() if value is not None}


def post(client, consultation, questions, *, answered=None, **overrides):
    data = {**form_data(**overrides), **answers(questions, **(answered or {}))}
    return client.post(f"/book/{consultation.slug}/details/", data)


def test_questions_of_each_kind_are_asked_in_order_after_the_fixed_fields(client, questions, consultation):
    page = client.get(details_url(consultation)).content.decode()
    texts = [
        "What would you like help with?",
        "Which medicines do you take?",
        "How have your symptoms developed? (optional)",
        "How do you eat?",
        "Which of these do you have? (optional)",
        "Have you had a gut test before?",
        "Your agreement",
    ]
    positions = [page.index(text) for text in texts]
    assert positions == sorted(positions)
    assert "switched off" not in page and "another consultation" not in page

    medicines = f"id_intake-q{questions['medicines'].pk}"
    name = medicines.removeprefix("id_")
    assert f'name="{name}" maxlength="200" aria-describedby="{medicines}-help" required id="{medicines}"' in page
    assert f'name="intake-q{questions["history"].pk}" cols="40" rows="4" maxlength="2000"' in page
    for key, kind in (("diet", "radio"), ("symptoms", "checkbox"), ("tested", "radio")):
        name = f"intake-q{questions[key].pk}"
        assert re.search(rf'<fieldset class="field" id="id_{name}">\s*<legend>', page), key
        assert page.count(f'type="{kind}" name="{name}"') == (2 if key == "tested" else 3)
    # An optional choice can be taken back; a required one cannot be skipped.
    assert "I would rather not say" not in page.split("Which of these")[0].split("How do you eat?")[1]


def test_missing_required_answers_get_a_message_each_keep_the_other_input_and_store_nothing(
    client, questions, consultation
):
    response = post(
        client, consultation, questions, answered={"medicines": "", "diet": None, "tested": None}, name="Alex Kept"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please check 3 answers" in page
    assert "Please answer “Which medicines do you take?”." in page
    assert "Please choose an answer to “How do you eat?”." in page
    assert "Please choose an answer to “Have you had a gut test before?”." in page
    diet = f"id_intake-q{questions['diet'].pk}"
    assert f'<a href="#{diet}_0">' in page  # the summary leads to the group's first choice
    assert f'id="{diet}" aria-describedby="{diet}-error"' in page
    # What the visitor wrote is all still there.
    assert 'value="Alex Kept"' in page and "Tiredness and bloating</textarea>" in page
    assert f"{HISTORY}</textarea>" in page
    assert re.search(r'value="Hair loss"[^>]*checked', page)
    assert not Booking.objects.exists() and not IntakeAnswer.objects.exists()


@pytest.mark.parametrize(
    ("answered", "message"),
    [
        ({"medicines": "Levo\x1b[31mthyroxine"}, "This answer contains characters that cannot be used"),
        ({"history": "x" * 2001}, "Please shorten this answer to 2000 characters or fewer (it has 2001)"),
        ({"diet": "Carnivore"}, "Please choose one of the answers given to “How do you eat?”"),
        ({"symptoms": ["Bloating", "Headache"]}, "Please choose one of the answers given"),
        ({"tested": "Maybe"}, "Please choose one of the answers given"),
    ],
)
def test_bad_answers_are_refused_with_a_clear_message(client, questions, consultation, answered, message):
    page = post(client, consultation, questions, answered=answered).content.decode()
    assert message in page
    assert not Booking.objects.exists() and not IntakeAnswer.objects.exists()


def _raw_answers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT answer FROM intake_intakeanswer")
        return [row[0] for row in cursor.fetchall()]


def test_answers_are_stored_encrypted_with_the_booking_and_shown_to_the_practice(
    client, questions, consultation, practice_client
):
    response = post(client, consultation, questions, answered={"history": ""})
    assert response.status_code == 302
    booking = Booking.objects.get()
    stored = [(a.question_id, a.question_text, a.answer) for a in booking.intake_answers.all()]
    assert stored == [
        (questions["medicines"].pk, "Which medicines do you take?", MEDICINES),
        (questions["history"].pk, "How have your symptoms developed?", ""),
        (questions["diet"].pk, "How do you eat?", "Vegetarian"),
        (questions["symptoms"].pk, "Which of these do you have?", "Bloating\nHair loss"),
        (questions["tested"].pk, "Have you had a gut test before?", "No"),
    ]
    raw = _raw_answers()
    assert len(raw) == 5 and "" in raw
    for value in raw:
        assert value == "" or value.startswith("fernet:")
        assert "levothyroxine" not in value and "Vegetarian" not in value and "Bloating" not in value

    page = practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode()
    section = page.split('<h2 id="intake-heading">Intake answers</h2>')[1].split("</section>")[0]
    assert "<dt>Which medicines do you take?</dt>" in section and MEDICINES in section
    assert '<dd class="workspace-pre">Bloating\nHair loss</dd>' in section
    assert '<dd class="workspace-pre">Not answered</dd>' in section
    assert section.index("Which medicines") < section.index("How do you eat?") < section.index("gut test")


def test_sending_twice_or_losing_the_time_stores_no_second_set_of_answers(client, questions, consultation):
    data = {**form_data(), **answers(questions)}
    client.post("/book/initial/details/", data)
    client.post("/book/initial/details/", data)
    assert IntakeAnswer.objects.count() == 5
    lost = post(client, consultation, questions, email="second@example.com")
    assert "Sorry, that time was just taken." in lost.content.decode()
    assert IntakeAnswer.objects.count() == 5 and Booking.objects.count() == 1


def test_changing_or_deleting_a_question_later_keeps_what_earlier_clients_were_asked(
    client, questions, consultation, practice_client
):
    post(client, consultation, questions)
    booking = Booking.objects.get()
    questions["medicines"].text = "Which medicines and supplements do you take?"
    questions["medicines"].save()
    questions["diet"].delete()

    kept = {answer.question_text: answer for answer in booking.intake_answers.all()}
    assert kept["Which medicines do you take?"].answer == MEDICINES
    assert kept["How do you eat?"].question is None and kept["How do you eat?"].answer == "Vegetarian"
    page = practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode()
    assert "Which medicines do you take?" in page and "supplements do you take" not in page
    assert "How do you eat?" in page


def test_answers_are_exported_and_erased_with_the_person(client, questions, consultation, practice_admin):
    post(client, consultation, questions)
    other = book(
        consultation,
        now=NOW,
        days=4,
        email="other@example.com",
        intake_answers=[(questions["medicines"], "Other-answer")],
    )

    exported = privacy.person_export(email="alex@example.com", now=NOW)
    assert exported["bookings"][0]["intake_answers"][0] == {
        "question": "Which medicines do you take?",
        "answer": MEDICINES,
    }
    assert {"question": "Which of these do you have?", "answer": "Bloating\nHair loss"} in exported["bookings"][0][
        "intake_answers"
    ]
    assert "Other-answer" not in json.dumps(exported)

    privacy.person_erase(email="alex@example.com", now=NOW, user=practice_admin)
    assert list(IntakeAnswer.objects.values_list("booking", flat=True)) == [other.pk]
    dump = full_dump()
    assert "levothyroxine" not in dump
    assert privacy.person_export(email="other@example.com", now=NOW)["bookings"][0]["intake_answers"][0]["answer"] == (
        "Other-answer"
    )


def test_retention_purges_the_answers_of_old_bookings_only(questions, consultation, practice_settings):
    practice_settings.health_details_retention_days = 30
    practice_settings.save()
    old = book(consultation, now=NOW, days=1, email="old@example.com", intake_answers=[(questions["medicines"], "Old")])
    recent = book(
        consultation, now=NOW, days=50, email="recent@example.com", intake_answers=[(questions["medicines"], "Recent")]
    )
    plan = privacy.purge_expired(now=NOW + dt.timedelta(days=40))
    assert [booking.pk for booking in plan.health_bookings] == [old.pk]
    assert not old.intake_answers.exists()
    assert [answer.answer for answer in recent.intake_answers.all()] == ["Recent"]


def test_answers_never_reach_an_email_a_calendar_file_or_a_log(client, questions, consultation, practice_admin, caplog):
    consultation.requires_approval = False  # confirmed at once: the email carries the calendar file
    consultation.save()
    with caplog.at_level(logging.DEBUG):
        response = post(client, consultation, questions)
        assert response.status_code == 302
        booking = Booking.objects.get()
        deliver_due(now=NOW)
        services.booking_cancel(booking=booking, by_client=False, now=NOW, user=practice_admin)
        deliver_due(now=NOW)
    assert len(mail.outbox) >= 3
    secrets = ("levothyroxine", "Intake-history", "Vegetarian", "Hair loss", "gut test", "Which medicines")
    for message in mail.outbox:
        whole = message.message().as_string()
        for secret in secrets:
            assert secret not in whole, (message.subject, secret)
    assert any("consultation.ics" in message.message().as_string() for message in mail.outbox)
    ics = calendar_file(booking, now=NOW).decode()
    assert booking.reference in ics
    for secret in secrets:
        assert secret not in ics
        assert secret not in caplog.text


def test_error_reports_never_contain_the_answers(client, questions, consultation, monkeypatch, caplog):
    def crash(*args, **kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(services, "_queue_new", crash)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = post(client, consultation, questions)
    assert response.status_code == 500
    record = next(record for record in caplog.records if record.exc_info)
    report = ExceptionReporter(record.request, *record.exc_info).get_traceback_html()
    assert "database fell over" in report
    # Built at run time: the report quotes source lines, and those must not be what the test finds.
    for secret in ("-".join(["Intake", "medicines"]), "-".join(["Intake", "history"]), "Hair" + " loss"):
        assert secret not in report
        assert secret not in caplog.text


@pytest.fixture
def question_editor(practice_client):
    """A practice admin, with the intake permissions that intake's migration gives the group."""
    importlib.import_module("intake.migrations.0002_practice_admins_permissions").grant(apps, None)
    return practice_client


def test_a_practice_admin_adds_a_question_and_previews_the_form(question_editor, questions, consultation):
    client = question_editor
    listing = client.get(reverse("wagtailsnippets_intake_intakequestion:list"))
    assert listing.status_code == 200 and "Which medicines do you take?" in listing.content.decode()

    add_url = reverse("wagtailsnippets_intake_intakequestion:add")
    data = {
        "consultation_type": consultation.pk,
        "text": "Do you have any allergies?",
        "help_text": "",
        "kind": QuestionKind.ONE_CHOICE,
        "choices": "Yes",
        "required": "on",
        "is_active": "on",
    }
    refused = client.post(add_url, data)
    assert "Write at least two answers to choose from, one per line." in refused.content.decode()
    assert not IntakeQuestion.objects.filter(text="Do you have any allergies?").exists()

    preview_url = reverse("wagtailsnippets_intake_intakequestion:preview_on_add")
    data["choices"] = "Yes, to foods\nYes, to medicines\nNo"
    assert client.post(preview_url, data).json()["is_valid"] is True
    preview = client.get(preview_url).content.decode()
    assert preview.index("Which medicines do you take?") < preview.index("Do you have any allergies?")
    assert 'value="Yes, to medicines"' in preview and "switched off" not in preview

    assert client.post(add_url, data).status_code == 302
    added = IntakeQuestion.objects.get(text="Do you have any allergies?")
    assert added.sort_order > questions["tested"].sort_order  # asked last until it is moved
    page = client.get(details_url(consultation)).content.decode()
    assert page.index("Have you had a gut test before?") < page.index("Do you have any allergies?")


def test_a_page_editor_cannot_see_the_questions(client, page_editor, questions):
    from tests.conftest import sign_in_verified

    sign_in_verified(client, page_editor)
    response = client.get(reverse("wagtailsnippets_intake_intakequestion:list"))
    assert response.status_code in (302, 403)


def test_questions_without_choices_keep_the_list_empty():
    from django.core.exceptions import ValidationError

    question = IntakeQuestion(kind=QuestionKind.SHORT_ANSWER, text="Anything else?", choices="One\nTwo")
    with pytest.raises(ValidationError, match="Only questions answered from a list"):
        question.clean()
    question.kind = QuestionKind.SEVERAL_CHOICES
    question.clean()
    question.choices = "One\none"
    with pytest.raises(ValidationError, match="must be different"):
        question.clean()


def test_a_type_without_questions_shows_the_form_as_before(client, consultation):
    page = client.get(details_url(consultation, start=SLOT)).content.decode()
    assert "Before your consultation" not in page
