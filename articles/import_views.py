"""The admin page where an editor uploads pages of the old Wix site and reads what became of them."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.defaults import permission_denied
from django.views.generic import FormView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .imports import wix_pages_import
from .models import ArticleIndexPage, ArticlePage
from .wix import ACCEPTED_EXTENSIONS, MAX_BYTES, WixImportError, parse_file

MAX_FILES = 20


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files; empty ones pass, for the importer to name them in its message."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [file for file in (data if isinstance(data, list | tuple) else [data]) if file is not None]
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


class WixImportForm(forms.Form):
    files = MultipleFileField(
        label="Pages from the old site",
        help_text=(
            "In the browser, open the page on the Wix site and choose File › Save page as. Upload the .html file, "
            "or zip it with its _files folder to bring the pictures too. You can also copy all the text of the page "
            "and save it as a .txt file. Up to 5 MB each; several files at once."
        ),
        widget=MultipleFileInput(attrs={"accept": ",".join(ACCEPTED_EXTENSIONS)}),
    )

    def clean_files(self):
        """Reads every file; the form is valid only when all of them can be imported."""
        uploads = self.cleaned_data["files"]
        if len(uploads) > MAX_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_FILES} files at a time.")
        pages, errors = [], []
        for upload in uploads:
            if upload.size > MAX_BYTES:
                errors.append(f"“{upload.name}” is larger than 5 MB. Save the page on its own and try again.")
                continue
            try:
                pages.extend(parse_file(upload.name, upload.read()))
            except WixImportError as error:
                errors.append(str(error))
        if errors:
            raise forms.ValidationError([*errors, "Nothing was imported."])
        return pages


class WixImportView(WagtailAdminTemplateMixin, FormView):
    """Under the article index: upload → drafts → the report. Needs permission to add pages there."""

    form_class = WixImportForm
    template_name = "articles/admin/wix_import_form.html"
    report_template_name = "articles/admin/wix_import_report.html"
    page_title = "Import from the old Wix site"
    header_icon = "upload"

    def dispatch(self, request, *args, **kwargs):
        self.index = get_object_or_404(ArticleIndexPage, pk=kwargs["index_id"])
        if not (
            self.index.permissions_for_user(request.user).can_add_subpage() and ArticlePage.can_create_at(self.index)
        ):
            # A 403, not the redirect to the dashboard that Wagtail makes of a raised PermissionDenied.
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("wagtailadmin_explore", args=[self.index.pk]), "label": self.index.title},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            index=self.index,
            action_url=reverse("articles_import:wix", args=[self.index.pk]),
            submit_button_label="Import as drafts",
            submit_button_active_label="Importing…",
        )
        return context

    def form_valid(self, form):
        reports = wix_pages_import(pages=form.cleaned_data["files"], index=self.index, user=self.request.user)
        return self.response_class(
            request=self.request,
            template=[self.report_template_name],
            context=self.get_context_data(form=form, reports=reports, page_subtitle="What was imported"),
        )
