"""
The intake questions of a consultation type as a form, shown on the visitor's details step after the
fixed fields. Validation only: the answers are stored by bookings.services.booking_request.

Field names are `q<question id>` under the prefix "intake" (so "intake-q12" in the posted data); a
choice is posted as its label, so what is stored is what the visitor read.
"""

from django import forms
from django.utils.text import Truncator

from bookings.forms import clean_text

from .models import QuestionKind

PREFIX = "intake"
SHORT_ANSWER_MAX_LENGTH = 200
LONG_ANSWER_MAX_LENGTH = 2000
YES_NO = [("Yes", "Yes"), ("No", "No")]
# An optional radio group cannot be cleared once a choice is ticked, so it offers a way out.
NO_ANSWER = ("", "I would rather not say")


def refuse_control_characters(value: str) -> None:
    clean_text(value, "This answer")


def _named(question) -> str:
    return f"“{Truncator(question.text).chars(80)}”"


def question_field(question) -> forms.Field:
    """The form field that asks `question`, with a message that names it when it is left unanswered."""
    label = question.text if question.required else f"{question.text} (optional)"
    common = {"label": label, "help_text": question.help_text, "required": question.required}
    if question.kind in (QuestionKind.SHORT_ANSWER, QuestionKind.LONG_ANSWER):
        short = question.kind == QuestionKind.SHORT_ANSWER
        return forms.CharField(
            **common,
            max_length=SHORT_ANSWER_MAX_LENGTH if short else LONG_ANSWER_MAX_LENGTH,
            validators=[refuse_control_characters],
            widget=forms.TextInput() if short else forms.Textarea(attrs={"rows": 4}),
            error_messages={
                "required": f"Please answer {_named(question)}.",
                "max_length": "Please shorten this answer to %(limit_value)d characters or fewer "
                "(it has %(show_value)d).",
            },
        )
    choice_messages = {
        "required": f"Please choose an answer to {_named(question)}.",
        "invalid_choice": f"Please choose one of the answers given to {_named(question)}.",
    }
    if question.kind == QuestionKind.SEVERAL_CHOICES:
        options = [(option, option) for option in question.choice_list]
        return forms.MultipleChoiceField(
            **common,
            choices=options,
            widget=forms.CheckboxSelectMultiple,
            error_messages={**choice_messages, "required": f"Please tick at least one answer to {_named(question)}."},
        )
    options = YES_NO if question.kind == QuestionKind.YES_NO else [(o, o) for o in question.choice_list]
    if not question.required:
        options = [*options, NO_ANSWER]
    return forms.ChoiceField(**common, choices=options, widget=forms.RadioSelect, error_messages=choice_messages)


def answer_names(data) -> list[str]:
    """The names of the intake answers in posted `data`, to hide from error reports."""
    return [name for name in data if name.startswith(f"{PREFIX}-")]


class IntakeForm(forms.Form):
    """The questions given, in the order given: usually `consultation_type.intake_questions.asked()`."""

    def __init__(self, *args, questions, **kwargs):
        kwargs.setdefault("prefix", PREFIX)
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[self.field_name(question)] = question_field(question)

    @staticmethod
    def field_name(question) -> str:
        return f"q{question.pk}" if question.pk else "q-new"  # an unsaved question, in the editor's preview

    @property
    def error_count(self) -> int:
        return len(self.errors)

    def answers(self) -> list[tuple]:
        """(question, answer text) for every question asked, in order; several choices one per line."""
        answers = []
        for question in self.questions:
            value = self.cleaned_data.get(self.field_name(question))
            answers.append((question, "\n".join(value) if isinstance(value, list) else (value or "")))
        return answers
