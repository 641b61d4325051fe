from django import forms

from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm

from . import services

CODE_ATTRS = {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "autofocus": True}


class LoginForm(WagtailLoginForm):
    """Wagtail's sign-in form without "Remember me": an admin session ends when the browser closes."""

    remember = None


class CodeForm(forms.Form):
    """One code, checked by a service. The code never appears in an error message or a log."""

    code = forms.CharField(max_length=20, strip=True, widget=forms.TextInput(attrs=CODE_ATTRS))

    error_messages = {
        "refused": "That code did not work. Check that the time on your phone is right and try the newest code.",
        "throttled": "Too many wrong codes in a row. Wait a minute, then try the newest code.",
    }

    def refuse(self, error: services.CodeRefusedError):
        code = "throttled" if error.throttled else "refused"
        self.add_error("code", forms.ValidationError(self.error_messages[code], code=code))


class EnrolForm(CodeForm):
    code = forms.CharField(
        label="Code from the app",
        help_text="The six digits the app shows now.",
        max_length=20,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "inputmode": "numeric"}),
    )


class VerifyForm(CodeForm):
    code = forms.CharField(
        label="Code",
        help_text="The six digits your authenticator app shows now, or one of your backup codes.",
        max_length=20,
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )
