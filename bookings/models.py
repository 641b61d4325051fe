"""Consultation bookings: types, availability, requests. Built in its own issue."""
