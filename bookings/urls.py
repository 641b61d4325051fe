from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("", views.choose_type, name="choose_type"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/move/", views.move, name="move"),
    path("manage/<str:token>/calendar.ics", views.calendar, name="calendar"),
    path("attend/<str:token>/", views.attend, name="attend"),
    path("<slug:slug>/", views.choose_time, name="choose_time"),
    path("<slug:slug>/details/", views.details, name="details"),
]
