"""
Intake questions: what the practitioner asks, per consultation type, when a visitor requests a
consultation, and the visitor's answers.

Questions are edited as snippets (Booking set-up → Intake questions) and asked in their sort order
(dragged into place in the listing). An answer keeps a copy of the question's text as it was asked,
so changing or deleting a question later never alters what earlier clients answered.

Answers are health details: stored encrypted, shown to practice admins only, exported and erased with
the person, purged with the reason by retention (bookings/privacy.py), never emailed, put in a
calendar file or logged.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import Truncator
from django.views.decorators.debug import sensitive_variables

from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.models import Orderable, PreviewableMixin

from bookings.models import Booking, ConsultationType
from practice.crypto import EncryptedTextField

CHOICE_MAX_LENGTH = 120
MAX_CHOICES = 20


class QuestionKind(models.TextChoices):
    SHORT_ANSWER = "short", "Short answer (one line)"
    LONG_ANSWER = "long", "Long answer (a few sentences)"
    ONE_CHOICE = "one_choice", "One choice from a list"
    SEVERAL_CHOICES = "several_choices", "Several choices from a list"
    YES_NO = "yes_no", "Yes or no"


CHOICE_KINDS = (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES)


class IntakeQuestionQuerySet(models.QuerySet):
    def asked(self):
        """The questions visitors see, in the order they see them."""
        return self.filter(is_active=True).order_by("sort_order", "pk")


class IntakeQuestion(PreviewableMixin, Orderable):
    """One question asked of visitors who book a consultation type. `sort_order` comes from Orderable."""

    consultation_type = models.ForeignKey(
        ConsultationType,
        on_delete=models.CASCADE,
        related_name="intake_questions",
        help_text="The consultation this question is asked for.",
    )
    kind = models.CharField(
        max_length=20,
        choices=QuestionKind.choices,
        default=QuestionKind.SHORT_ANSWER,
        help_text="How the client answers: in their own words, by picking from your list, or yes or no.",
    )
    text = models.CharField(
        max_length=250,
        help_text="The question as clients read it, for example 'Which medicines do you take at the moment?'",
    )
    help_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="Optional: a hint shown under the question, for example 'Include supplements.'",
    )
    required = models.BooleanField(
        default=False, help_text="If ticked, a request cannot be sent without an answer to this question."
    )
    choices = models.TextField(
        blank=True,
        help_text="Only for 'one choice' and 'several choices': the answers to pick from, one per line.",
    )
    is_active = models.BooleanField(
        default=True,
        help_text="Untick to stop asking it. Answers clients have already given are kept.",
    )

    objects = IntakeQuestionQuerySet.as_manager()

    panels = [
        FieldPanel("consultation_type"),
        FieldPanel("text"),
        FieldPanel("help_text"),
        FieldPanel("kind"),
        FieldPanel("choices"),
        FieldRowPanel([FieldPanel("required"), FieldPanel("is_active")]),
    ]

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = "intake question"
        verbose_name_plural = "intake questions"

    def __str__(self):
        return Truncator(self.text).chars(80)

    @property
    def choice_list(self) -> list[str]:
        """The answers to pick from: one per non-empty line of `choices`, trimmed."""
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self):
        options = self.choice_list
        if self.kind in CHOICE_KINDS:
            if len(options) < 2:
                raise ValidationError({"choices": "Write at least two answers to choose from, one per line."})
            if len(options) > MAX_CHOICES:
                raise ValidationError({"choices": f"Give at most {MAX_CHOICES} answers to choose from."})
            if len({option.casefold() for option in options}) != len(options):
                raise ValidationError({"choices": "Each answer to choose from must be different."})
            if any(len(option) > CHOICE_MAX_LENGTH for option in options):
                raise ValidationError(
                    {"choices": f"Keep each answer to choose from under {CHOICE_MAX_LENGTH} characters."}
                )
        elif options:
            raise ValidationError(
                {"choices": "Only questions answered from a list use these. Empty this box, or choose such a kind."}
            )

    # The preview shows all the questions of the consultation type as visitors see them, with this
    # one as it stands in the editor (saved or not) in its place.

    def get_preview_template(self, request, mode_name):
        return "intake/intake_question.html"

    def get_preview_context(self, request, mode_name):
        from .forms import IntakeForm  # the form builds on this module

        questions = []
        consultation = None
        if self.consultation_type_id:
            consultation = ConsultationType.objects.get(pk=self.consultation_type_id)
            questions = [question for question in consultation.intake_questions.asked() if question.pk != self.pk]
        if self.is_active:
            questions.append(self)
            questions.sort(key=lambda question: (question.sort_order is None, question.sort_order or 0))
        return {
            **super().get_preview_context(request, mode_name),
            "consultation": consultation,
            "intake_form": IntakeForm(questions=questions),
        }


class IntakeAnswerManager(models.Manager):
    @sensitive_variables("answers", "answer", "rows")
    def record(self, *, booking: Booking, answers) -> list:
        """
        Keep a visitor's `answers` ((question, text) pairs, in the order asked) with `booking`, each with
        the question's text as it was asked. Called by the booking service inside its transaction.
        """
        rows = [
            self.model(booking=booking, question=question, question_text=question.text, answer=answer, sort_order=i)
            for i, (question, answer) in enumerate(answers)
        ]
        return self.bulk_create(rows)


class IntakeAnswer(models.Model):
    """A visitor's answer to one intake question. Health details: encrypted, for practice admins only."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="intake_answers")
    question = models.ForeignKey(
        IntakeQuestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    question_text = models.CharField(max_length=250, help_text="The question as it was asked.")
    answer = EncryptedTextField(
        blank=True,
        help_text="Health details: visible to practice admins only; stored encrypted. Several choices "
        "are kept one per line; empty when the client left an optional question unanswered.",
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = IntakeAnswerManager()

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = "intake answer"

    def __str__(self):
        # Never the answer: this text can end up in logs and the audit trail.
        return f"Answer to “{Truncator(self.question_text).chars(60)}”"
