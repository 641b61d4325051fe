from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.TwoFactorView.as_view(), name="two_factor"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
]
