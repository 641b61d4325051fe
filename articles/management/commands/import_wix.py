"""`manage.py import_wix FILE...`: pages of the old Wix site become draft articles, with the report."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from articles.imports import wix_page_import
from articles.models import ArticleIndexPage
from articles.wix import MAX_BYTES, WixImportError, parse_file


class Command(BaseCommand):
    help = (
        "Import pages saved from the old Wix site (.html, .htm, a .zip with the _files folder, or copied text "
        "as .txt) as draft articles under the article index. Nothing is published; a page imported again "
        "updates its draft. Exits with status 1 when a file could not be imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--user", help="Username recorded as the drafts' author in the page history.")

    def handle(self, *args, files, user=None, **options):
        index = ArticleIndexPage.objects.first()
        if index is None:
            raise CommandError("There is no article index page to import under: create one first.")
        editor = None
        if user:
            editor = get_user_model().objects.filter(username=user).first()
            if editor is None:
                raise CommandError(f"No user is called “{user}”.")

        failures = 0
        for name in files:
            path = Path(name)
            try:
                if not path.is_file():
                    raise WixImportError(f"“{name}” does not exist or is not a file.")
                if path.stat().st_size > MAX_BYTES:
                    raise WixImportError(f"“{path.name}” is larger than 5 MB. Save the page on its own and try again.")
                pages = parse_file(path.name, path.read_bytes())
            except WixImportError as error:
                failures += 1
                self.stderr.write(f"{name}: not imported. {error}")
                continue
            for page in pages:
                report = wix_page_import(page=page, index=index, user=editor)
                self.stdout.write(report.as_text())
                self.stdout.write("")
        if failures:
            raise CommandError(
                f"{failures} of {len(files)} file{'s' if len(files) != 1 else ''} could not be imported."
            )
