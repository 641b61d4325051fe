from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("two-factor/", views.TwoFactorView.as_view(), name="two_factor"),
    path("two-factor/verify/", views.VerifyView.as_view(), name="verify"),
    path("two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("calendar-feed/", views.CalendarFeedView.as_view(), name="calendar_feed"),
]
